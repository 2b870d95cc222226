package dev.locking.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * The cross-process workloads, W7 and W8: the same N worker JVMs ({@link WorkerMain}) run every contender of
 * one backend in turn, each with its own client and {@code LockingService}; the workers of a backend are
 * started once per run and reused by all its contenders. Every measurement is prepared in every worker, then
 * started in all of them at once (the bench sends {@code GO} once all are ready), so they measure the same
 * window; the results are merged here: operations and per-thread counts added up, latency histograms merged,
 * overlaps counted in a memory-mapped file all workers share ({@link SharedCounters}).
 *
 * <p>Used by one thread, the bench's.
 */
final class CrossProcess implements AutoCloseable {
    /** W7: threads per JVM on one key. */
    static final int W7_THREADS = 2;
    /** W8: threads per JVM, each taking 3 random keys of 16. */
    static final int W8_THREADS = 1;
    /** How long a worker may take to set up a measurement (a peer's first objects, a first connection). */
    private static final Duration PREPARE_TIMEOUT = Duration.ofSeconds(60);
    /** How long past its window a worker may take to answer (the interrupt of stuck threads is 2 s). */
    private static final Duration ANSWER_MARGIN = Duration.ofSeconds(60);

    private final List<ChildProcess> workers;
    private final Path dir;
    private final List<String> contenders;

    private CrossProcess(List<ChildProcess> workers, Path dir, List<String> contenders) {
        this.workers = workers;
        this.dir = dir;
        this.contenders = contenders;
    }

    /**
     * Starts {@code jvms} workers in parallel, each connected to {@code address}.
     *
     * @param backend {@code redis}, {@code zookeeper}, {@code hazelcast}, or {@code local} for the tests
     * @param dir     where the workers' logs and the shared counter files go
     */
    static CrossProcess start(String backend, String address, String hazelcastCluster, int jvms, Path dir) {
        List<CompletableFuture<ChildProcess>> starting = new ArrayList<>();
        for (int i = 1; i <= jvms; i++) {
            String name = backend + "-worker-" + i;
            starting.add(CompletableFuture.supplyAsync(() -> ChildProcess.start(name,
                    ChildProcess.javaCommand(Backends.childJvm(name), WorkerMain.class, backend, address,
                            hazelcastCluster),
                    dir.resolve(name + ".log"), Backends.START_TIMEOUT, null, null)));
        }
        List<ChildProcess> started = new ArrayList<>();
        RuntimeException failed = null;
        for (CompletableFuture<ChildProcess> f : starting) {
            try {
                started.add(f.join());
            } catch (RuntimeException e) {
                failed = failed == null ? e : failed;
            }
        }
        if (failed != null) {
            started.forEach(ChildProcess::close);
            throw new IllegalStateException("could not start the " + backend + " workers: " + failed, failed);
        }
        CrossProcess p = new CrossProcess(started, dir, List.of());
        try {
            List<String> names = new ArrayList<>();
            for (String n : p.ask(started.get(0), "LIST", "CONTENDERS", PREPARE_TIMEOUT).split(" ", -1)) {
                if (!n.isEmpty()) {
                    names.add(WorkerMain.decode(n));
                }
            }
            return new CrossProcess(started, dir, List.copyOf(names));
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** The contenders the workers offer, ours first. */
    List<String> contenders() {
        return contenders;
    }

    int jvms() {
        return workers.size();
    }

    /**
     * Measures one contender in every worker at once.
     *
     * @param providerId the provider the contender is compared under, such as {@code lp_redis}
     * @param hold       for the tests only: a holder stays inside until another one entered
     */
    Result measure(int run, String workload, String providerId, String contender, Runner.Timing timing,
            boolean hold) {
        boolean ours = contender.startsWith("lp_");
        int threads = workload.equals("W7") ? W7_THREADS : W8_THREADS;
        String prefix = Workloads.prefix(run, workload);
        Path file;
        try {
            file = Files.createTempFile(dir, workload + "-", ".counters");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SharedCounters shared = SharedCounters.open(file);
        String prepare = String.join(" ", "PREPARE", workload, WorkerMain.encode(contender), Integer.toString(threads),
                WorkerMain.encode(prefix), Long.toString(timing.warmup().toMillis()),
                Long.toString(timing.measure().toMillis()), Long.toString(timing.grace().toMillis()),
                WorkerMain.encode(file.toString()), Boolean.toString(hold));
        workers.forEach(w -> w.send(prepare));
        String name = contender;
        for (ChildProcess w : workers) {
            name = WorkerMain.decode(answer(w, "PREPARED", PREPARE_TIMEOUT));
        }
        workers.forEach(w -> w.send("GO"));
        Duration wait = timing.warmup().plus(timing.measure()).plus(timing.grace()).plus(ANSWER_MARGIN);
        Histogram all = new Histogram(3);
        long ops = 0;
        long entries = 0;
        long overlaps = 0;
        long errors = 0;
        int stuck = 0;
        List<Long> threadOps = new ArrayList<>();
        @Nullable String firstError = null;
        for (ChildProcess w : workers) {
            String[] r = answer(w, "RESULT", wait).split(" ", -1);
            ops += Long.parseLong(r[0]);
            entries += Long.parseLong(r[1]);
            overlaps += Long.parseLong(r[2]);
            errors += Long.parseLong(r[3]);
            stuck += Integer.parseInt(r[4]);
            Arrays.stream(r[5].split(",", -1)).filter(s -> !s.isEmpty()).map(Long::parseLong).forEach(threadOps::add);
            all.add(WorkerMain.decodeHistogram(r[6]));
            if (firstError == null && !r[7].equals("-")) {
                firstError = WorkerMain.decode(r[7]);
            }
        }
        String note = String.format(Locale.ROOT, "%d JVMs x %d threads", workers.size(), threads);
        if (overlaps > 0) {
            note += "; " + overlaps + " entries found another holder inside";
        }
        if (workload.equals("W7") && stuck == 0) {
            // Every entry also added one to the shared counter by a plain read and write: only mutual exclusion
            // keeps them equal. (With stuck threads a late entry could still come, so it is not compared.)
            long lost = entries - shared.counter();
            if (lost != 0) {
                overlaps += Math.abs(lost);
                note += "; " + lost + " counter updates lost";
            }
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // a temporary file in the bench's directory; nothing depends on it being gone
        }
        long[] counts = threadOps.stream().mapToLong(Long::longValue).toArray();
        Runner.Measurement m = new Runner.Measurement(ops, timing.measure().toNanos() / 1e9, all, errors, firstError,
                stuck, 0, timing.warmup().toNanos() / 1e9, List.copyOf(threadOps));
        String variant = workload.equals("W8") ? ours ? "caller order" : "sorted" : "";
        Result result = Result.of(run, workload, providerId, name, ours, variant, workers.size() * threads, m,
                overlaps, note);
        return workload.equals("W7") ? result.withFigure(Fairness.jainIndex(counts), JAIN) : result;
    }

    /** The unit of W7's figure. */
    static final String JAIN = "Jain's index";

    /**
     * W7 and W8 of one run on every distributed backend started, each contender once, ours first on odd
     * runs and last on even ones.
     */
    static void measureAll(int run, Backends backends, BenchOptions o, Consumer<Result> add) {
        for (String backend : List.of("redis", "zookeeper", "hazelcast", "postgres")) {
            if (!o.backend(backend)) {
                continue;
            }
            Runner.Timing t = o.timing();
            try (CrossProcess p = start(backend, backends.address(backend), backends.hazelcastCluster, o.jvms(),
                    backends.dir())) {
                List<String> order = new ArrayList<>(p.contenders());
                if (run % 2 == 0) {
                    java.util.Collections.reverse(order);
                }
                for (String workload : List.of("W7", "W8")) {
                    if (!o.workload(workload)) {
                        continue;
                    }
                    for (String c : order) {
                        if (workload.equals("W8") && c.equals(Peers.REDISSON_FAIR)) {
                            continue; // the fair lock is W7's fairness comparison; W8 has RedissonMultiLock
                        }
                        add.accept(p.measure(run, workload, "lp_" + backend, c, t, false));
                    }
                }
            }
        }
    }

    private String ask(ChildProcess w, String command, String expected, Duration timeout) {
        w.send(command);
        return answer(w, expected, timeout);
    }

    /** The rest of the worker's next answer, which must start with {@code expected}. */
    private static String answer(ChildProcess w, String expected, Duration timeout) {
        String reply = w.reply(timeout);
        if (!reply.startsWith(expected + " ")) {
            throw new IllegalStateException(w.name() + " answered " + (reply.startsWith("FAILED ")
                    ? WorkerMain.decode(reply.substring(7)) : reply) + " instead of " + expected + "; see " + w.log());
        }
        return reply.substring(expected.length() + 1);
    }

    /** Stops the workers (their standard input closes, then they are stopped). */
    @Override
    public void close() {
        workers.forEach(ChildProcess::close);
    }
}
