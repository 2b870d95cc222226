package dev.locking.faults;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One fault scenario: a {@link FencedResource}, child JVMs that loop {@code execute} and write to it, the
 * {@link Timeline} of what they reported, and the helpers a test needs to find the holder, inject a fault,
 * wait for what should follow and stop everything within hard bounds.
 *
 * <p>Every wait is on a condition, with an outer bound far above what the step takes on a quiet machine;
 * the only timed pauses are the faults' own durations ({@link #holdFault(Duration)}).
 */
final class Scenario implements AutoCloseable {
    /** How long a child may live at most; its watchdog ends it then, whatever happens. */
    static final Duration CHILD_MAX_LIFE = Duration.ofMinutes(3);
    /** How long a child may take to start (a JVM, on a machine other builds share). */
    static final Duration START_BOUND = Duration.ofSeconds(90);
    /** How long a child may take to exit once told to stop: the "nothing hangs" bound. */
    static final Duration EXIT_BOUND = Duration.ofSeconds(30);

    final String name;
    final String key;
    final Path dir;
    final FencedResource resource = new FencedResource();
    final Timeline timeline = new Timeline();
    private final Map<String, ChildJvm> children = new LinkedHashMap<>();
    private final Map<String, Long> exitMillis = new LinkedHashMap<>();
    private final List<String> hung = new ArrayList<>();
    private final Map<String, Long> killedByTest = new LinkedHashMap<>();

    Scenario(String name) {
        this.name = name;
        this.key = "faults-" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            this.dir = Files.createDirectories(Path.of("target", "faults", name + "-" + System.currentTimeMillis()))
                    .toAbsolutePath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a child with one loop per spec. */
    ChildJvm startChild(String child, Map<String, String> properties, LockLoopMain.Loop... loops) {
        List<String> args = new ArrayList<>(List.of(Integer.toString(resource.port()), child,
                Long.toString(CHILD_MAX_LIFE.toMillis())));
        for (LockLoopMain.Loop loop : loops) {
            args.add(loop.spec());
        }
        ChildJvm jvm = ChildJvm.start(child, dir, LockLoopMain.class, properties, args,
                line -> timeline.add(Event.parse(child, line)));
        children.put(child, jvm);
        return jvm;
    }

    ChildJvm child(String child) {
        ChildJvm c = children.get(child);
        if (c == null) {
            throw new IllegalArgumentException("no child " + child);
        }
        return c;
    }

    /** Waits until every child started so far said READY. */
    void awaitReady() {
        await(name + ": every child READY").atMost(START_BOUND).pollInterval(Duration.ofMillis(50)).until(() -> {
            for (ChildJvm c : children.values()) {
                if (!c.isAlive()) {
                    throw new IllegalStateException(c.name() + " died while starting:\n" + c.errorTail());
                }
            }
            return timeline.count(e -> e.is("READY")) >= children.size();
        });
    }

    /**
     * Waits for a condition with a generous bound; false if it did not come (the test then reports what it
     * saw and fails on it, instead of ending without a report).
     */
    boolean awaitThat(String what, Duration atMost, Callable<Boolean> condition) {
        try {
            await(name + ": " + what).atMost(atMost).pollInterval(Duration.ofMillis(20)).until(condition);
            return true;
        } catch (ConditionTimeoutException e) {
            timeline.fault("TIMED OUT waiting for: " + what);
            return false;
        }
    }

    /** How many jobs started on the scenario's key. */
    long grants() {
        return timeline.count(e -> e.is("GOT") && e.key().equals(key));
    }

    long grantsAfter(long millis) {
        return timeline.count(e -> e.is("GOT") && e.key().equals(key) && e.millis() > millis);
    }

    /** The job running now on {@code key} that has written at least {@code writes} times, if any. */
    Optional<Event> holderWithWrites(String onKey, int writes) {
        List<Event> events = timeline.events();
        Event last = null;
        for (Event e : events) {
            if (e.is("GOT") && e.key().equals(onKey)) {
                last = e;
            }
        }
        if (last == null) {
            return Optional.empty();
        }
        int seen = 0;
        for (Event e : events) {
            if (!e.child().equals(last.child()) || !e.key().equals(onKey) || e.millis() < last.millis()) {
                continue;
            }
            if ((e.is("END") || e.is("DONE") || e.is("LOST") || e.is("FAIL")) && e.token() == last.token()) {
                return Optional.empty();
            }
            if (e.is("WRITE") && e.token() == last.token()) {
                seen++;
            }
        }
        return seen >= writes ? Optional.of(last) : Optional.empty();
    }

    /** Waits for a job on the key that is well under way (two writes done) and returns its GOT event. */
    Event awaitHolder(String onKey) {
        return awaitHolder(onKey, 1);
    }

    /**
     * Waits for a job on the key that is well under way (two writes done) and is at least the
     * {@code nthGrant}-th job on it, and returns its GOT event.
     */
    Event awaitHolder(String onKey, int nthGrant) {
        Event[] found = new Event[1];
        await(name + ": job #" + nthGrant + " or later on " + onKey + ", with two writes")
                .atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
                    if (timeline.count(e -> e.is("GOT") && e.key().equals(onKey)) < nthGrant) {
                        return false;
                    }
                    Optional<Event> h = holderWithWrites(onKey, 2);
                    h.ifPresent(e -> found[0] = e);
                    return h.isPresent();
                });
        return found[0];
    }

    /** Keeps a fault in place for the given time: the fault's duration, not a wait for a condition. */
    static void holdFault(Duration duration) {
        try {
            TimeUnit.MILLISECONDS.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during a fault", e);
        }
    }

    /** The first job another child than {@code notChild} started on the key after {@code millis}. */
    Optional<Event> firstGrantAfter(long millis, String notChild) {
        return timeline.matching(e -> e.is("GOT") && e.key().equals(key) && e.millis() > millis
                && !e.child().equals(notChild)).stream().findFirst();
    }

    /** The first LOST the child reported for that token. */
    Optional<Event> lost(String child, String onKey, long token) {
        return timeline.matching(e -> e.is("LOST") && e.child().equals(child) && e.key().equals(onKey)
                && e.token() == token).stream().findFirst();
    }

    /** Notes that the test killed a child on purpose: it is not expected to exit when told. */
    void killedOnPurpose(String child, long atMillis) {
        killedByTest.put(child, atMillis);
    }

    /** The jobs on the scenario's key, rebuilt from the timeline. */
    List<Jobs.Job> jobs() {
        return Jobs.of(timeline.events(), key, killedByTest);
    }

    /**
     * Tells every live child to stop and waits for each up to {@link #EXIT_BOUND}; a child still running
     * then is killed and counted as hung.
     */
    void stopAll() throws InterruptedException {
        long told = System.currentTimeMillis();
        for (ChildJvm c : children.values()) {
            if (!killedByTest.containsKey(c.name())) {
                c.tell("STOP");
            }
        }
        for (ChildJvm c : children.values()) {
            if (killedByTest.containsKey(c.name())) {
                continue;
            }
            Optional<Integer> code = c.awaitExit(EXIT_BOUND);
            if (code.isEmpty()) {
                hung.add(c.name() + " (still running after " + EXIT_BOUND.toSeconds() + " s)");
                c.close();
            } else if (code.get() != 0) {
                hung.add(c.name() + " (exit " + code.get() + "):\n" + c.errorTail());
            } else {
                exitMillis.put(c.name(), System.currentTimeMillis() - told);
            }
        }
    }

    /** Children that did not exit cleanly when told, with why. */
    List<String> hung() {
        return List.copyOf(hung);
    }

    /** The longest a child took to exit after STOP, in ms. */
    long slowestExitMillis() {
        return exitMillis.values().stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    int exitedCleanly() {
        return exitMillis.size();
    }

    int toldToStop() {
        return children.size() - killedByTest.size();
    }

    /** Tokens in the order the jobs started (by the shared wall clock), and the first that is not higher. */
    List<Long> grantedTokens(String onKey) {
        List<Event> got = new ArrayList<>(timeline.matching(e -> e.is("GOT") && e.key().equals(onKey)));
        got.sort((a, b) -> Long.compare(a.millis(), b.millis()));
        List<Long> tokens = new ArrayList<>();
        for (Event e : got) {
            tokens.add(e.token());
        }
        return tokens;
    }

    /**
     * Writes the timeline to the scenario's directory, for a reader who wants every line: faults and events
     * merged by time, in ms from the first.
     */
    void dumpTimeline() {
        List<String[]> lines = new ArrayList<>();
        for (String f : timeline.faults()) {
            int space = f.indexOf(' ');
            lines.add(new String[] {f.substring(0, space), "  *** " + f.substring(space + 1)});
        }
        for (Event e : timeline.events()) {
            lines.add(new String[] {Long.toString(e.millis()), "  " + e.child() + " " + e.type()
                    + (e.token() >= 0 ? " token " + e.token() : "") + (e.rest().isEmpty() ? "" : " " + e.rest())});
        }
        lines.sort((a, b) -> Long.compare(Long.parseLong(a[0]), Long.parseLong(b[0])));
        long first = lines.isEmpty() ? 0 : Long.parseLong(lines.get(0)[0]);
        StringBuilder text = new StringBuilder("key " + key + "\n");
        for (String[] l : lines) {
            text.append(String.format("+%6d", Long.parseLong(l[0]) - first)).append(l[1]).append('\n');
        }
        try {
            Files.writeString(dir.resolve("timeline.txt"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        for (ChildJvm c : children.values()) {
            c.close();
        }
        resource.close();
    }
}
