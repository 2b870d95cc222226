package dev.locking.tck;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runs {@code execute} on one key from several JVMs at once and measures mutual exclusion: the exact
 * counter and the number of overlaps. It is meant for <b>distributed</b> providers: each child JVM has its
 * own {@code LockingService}, so only a backend shared between processes can keep them apart. (With
 * {@code lp_memory} every JVM has its own locks and children overlap freely.)
 *
 * <p>Each child runs {@link ContentionWorker} with the same {@code java} binary as the calling JVM and its
 * classpath (under Surefire, {@code surefire.test.class.path}; otherwise {@code java.class.path}). The
 * child builds its service with {@code Locking.create()}, so the provider is chosen and configured by the
 * system properties given here:
 *
 * <pre>{@code
 * MultiJvmContention contention = MultiJvmContention.builder()
 *         .systemProperty("locking.default", "lp_redis")
 *         .systemProperty("locking.providers.redis.address", "redis://127.0.0.1:" + port)
 *         .jvms(3)
 *         .iterations(50)
 *         .build();
 * MultiJvmContention.Result result = contention.run();
 * assertThat(result.overlaps()).isZero();
 * assertThat(result.counter()).isEqualTo(result.expectedCounter());
 * }</pre>
 *
 * <p>The system properties appear on the children's command lines, where other local users can read them:
 * give test credentials only. Children log at WARN through {@code slf4j-simple} (when it is on the
 * classpath) unless a property says otherwise.
 *
 * <p>Children start together: each writes a ready file and waits for a start signal, which
 * {@link #run()} gives once all are up. Overlaps are detected through a shared directory: the job creates
 * a marker file and finding it already there is an overlap; then it reads, increments and rewrites a counter
 * file. {@link #run()} waits for every child up to {@link Builder#timeout(Duration)} and kills what is left.
 *
 * <p>{@link #startHolder(String, Duration)} starts one child that acquires a key with a lease and then
 * blocks, so a test can kill it ({@link Holder#kill()}, a SIGKILL) and check that its lock frees once the
 * lease lapses.
 *
 * <p>Not thread-safe; each {@link #run()} uses a fresh directory and a fresh key unless one was given.
 *
 * @since 0.1.0
 */
public final class MultiJvmContention {

    /** The longest a forgotten holder child lives before it exits by itself. */
    private static final Duration HOLDER_MAX_LIFE = Duration.ofMinutes(5);
    private static final int STDERR_TAIL_CHARS = 4000;

    private final Map<String, String> systemProperties;
    private final List<String> jvmOptions;
    private final int jvms;
    private final int iterations;
    private final @Nullable String key;
    private final Duration timeout;
    private final Duration executeTimeout;
    private final Duration expire;
    private final @Nullable Path workDirectory;

    private MultiJvmContention(Builder b) {
        this.systemProperties = Map.copyOf(b.systemProperties);
        this.jvmOptions = List.copyOf(b.jvmOptions);
        this.jvms = b.jvms;
        this.iterations = b.iterations;
        this.key = b.key;
        this.timeout = b.timeout;
        this.executeTimeout = b.executeTimeout;
        this.expire = b.expire;
        this.workDirectory = b.workDirectory;
    }

    /**
     * Starts a builder: 3 JVMs, 20 iterations each, a 2-minute overall timeout, a 30-second timeout and a
     * 30-second lease per {@code execute}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts the children, lets them contend, waits for all of them and collects the outcome. Children
     * still running at the timeout are killed, and the result says so.
     *
     * @return what the children did
     * @throws InterruptedException if the calling thread is interrupted (the children are killed first)
     * @throws UncheckedIOException if the work directory cannot be written or a child cannot be started
     */
    public Result run() throws InterruptedException {
        Path dir = newDirectory();
        String lockKey = key != null ? key : "tck-contention-" + UUID.randomUUID();
        List<Process> children = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean timedOut = false;
        try {
            for (int i = 0; i < jvms; i++) {
                children.add(start(dir, "child-" + i, List.of("contend", dir.toString(), lockKey,
                        Integer.toString(iterations), Long.toString(executeTimeout.toMillis()),
                        Long.toString(expire.toMillis()), Integer.toString(i), Long.toString(timeout.toMillis()))));
            }
            // Start them together: wait until every child is up (or has died), then give the signal.
            while (!allReady(dir, children)) {
                if (System.nanoTime() - deadline > 0) {
                    timedOut = true;
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(10); // polling files: another process has nothing to wait on
            }
            ContentionWorker.writeAtomically(dir, ContentionWorker.GO, "go");
            for (Process child : children) {
                long left = deadline - System.nanoTime();
                if (!child.waitFor(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                    timedOut = true;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (Process child : children) {
                if (child.isAlive()) {
                    child.destroyForcibly();
                    child.waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
        return collect(dir, children, timedOut);
    }

    /**
     * Starts one child that acquires {@code key} with the given lease (under an owner of its own) and then
     * blocks until it is killed. Call {@link Holder#awaitHeld(Duration)} before relying on the lock.
     *
     * @param key   the key the child locks
     * @param lease the lease it takes, positive
     * @return the running child
     * @throws UncheckedIOException if the child cannot be started
     */
    public Holder startHolder(String key, Duration lease) {
        Path dir = newDirectory();
        Process process = start(dir, "holder", List.of("hold", dir.toString(), key, Long.toString(lease.toMillis()),
                Long.toString(HOLDER_MAX_LIFE.toMillis())));
        return new Holder(process, dir);
    }

    private Path newDirectory() {
        try {
            Path parent = workDirectory;
            Path dir = parent != null
                    ? Files.createTempDirectory(Files.createDirectories(parent), "contention-")
                    : Files.createTempDirectory("locking-tck-contention-");
            ContentionWorker.writeAtomically(dir, ContentionWorker.COUNTER, "0");
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Process start(Path dir, String name, List<String> workerArgs) {
        List<String> options = new ArrayList<>(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m"));
        options.addAll(jvmOptions);
        try {
            List<String> command = JavaCommand.of(dir, name, options, systemProperties, ContentionWorker.class,
                    workerArgs);
            return new ProcessBuilder(command)
                    .redirectOutput(dir.resolve(name + ".out").toFile())
                    .redirectError(dir.resolve(name + ".err").toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("Could not start a child JVM " + name, e);
        }
    }

    private static boolean allReady(Path dir, List<Process> children) {
        for (int i = 0; i < children.size(); i++) {
            if (children.get(i).isAlive() && !Files.exists(dir.resolve("ready-" + i))) {
                return false;
            }
        }
        return true;
    }

    private Result collect(Path dir, List<Process> children, boolean timedOut) {
        List<Integer> exitCodes = new ArrayList<>();
        int overlaps = 0;
        long executed = 0;
        StringBuilder stderr = new StringBuilder();
        for (int i = 0; i < children.size(); i++) {
            Process child = children.get(i);
            int code = child.isAlive() ? -1 : child.exitValue(); // -1: could not even be killed
            exitCodes.add(code);
            Properties result = readProperties(dir.resolve("result-" + i));
            overlaps += Integer.parseInt(result.getProperty("overlaps", "0"));
            executed += Long.parseLong(result.getProperty("executed", "0"));
            if (code != 0) {
                stderr.append("--- child-").append(i).append(" (exit ").append(code).append(") stderr tail:\n")
                        .append(tail(dir.resolve("child-" + i + ".err"))).append('\n');
            }
        }
        return new Result(jvms, iterations, readCounter(dir), overlaps, executed, exitCodes, timedOut,
                stderr.toString(), dir);
    }

    private static long readCounter(Path dir) {
        try {
            return Long.parseLong(Files.readString(dir.resolve(ContentionWorker.COUNTER), StandardCharsets.UTF_8).trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static Properties readProperties(Path file) {
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return p;
    }

    static String tail(Path file) {
        return JavaCommand.tail(file, STDERR_TAIL_CHARS);
    }

    /**
     * What the children of one {@link #run()} did.
     *
     * @param jvms             how many children ran
     * @param iterationsPerJvm how many calls of execute each child was to make
     * @param counter          the final value of the shared counter ({@code -1} if unreadable); with mutual
     *                         exclusion, exactly {@link #expectedCounter()}
     * @param overlaps         how many times a job found another job inside the critical section
     * @param executed         how many calls of execute the children reported as done
     * @param exitCodes        each child's exit code, by index (0: done)
     * @param timedOut         whether the overall timeout passed and children were killed
     * @param stderrTail       the end of the standard error of each child that did not exit with 0
     * @param directory        the shared directory, with each child's {@code .out} and {@code .err} files
     */
    public record Result(int jvms, int iterationsPerJvm, long counter, int overlaps, long executed,
            List<Integer> exitCodes, boolean timedOut, String stderrTail, Path directory) {

        /**
         * Copies the exit codes.
         *
         * @param jvms             how many children ran
         * @param iterationsPerJvm how many calls of execute each child was to make
         * @param counter          the final value of the shared counter ({@code -1} if unreadable)
         * @param overlaps         how many times a job found another job inside the critical section
         * @param executed         how many calls of execute the children reported as done
         * @param exitCodes        each child's exit code, by index (0: done)
         * @param timedOut         whether the overall timeout passed and children were killed
         * @param stderrTail       the end of the standard error of each child that did not exit with 0
         * @param directory        the shared directory, with each child's output files
         */
        public Result {
            exitCodes = List.copyOf(exitCodes);
        }

        /**
         * Returns the counter that mutual exclusion gives: {@code jvms * iterationsPerJvm}.
         *
         * @return the expected counter
         */
        public long expectedCounter() {
            return (long) jvms * iterationsPerJvm;
        }

        /**
         * Returns whether every child finished in time with exit code 0.
         *
         * @return true if all children succeeded
         */
        public boolean allExitedNormally() {
            return !timedOut && exitCodes.stream().allMatch(c -> c == 0);
        }
    }

    /**
     * A child JVM that holds a lock until it is killed. Closing it kills it.
     */
    public static final class Holder implements AutoCloseable {
        private final Process process;
        private final Path directory;

        Holder(Process process, Path directory) {
            this.process = process;
            this.directory = directory;
        }

        /**
         * Waits until the child has taken its lock.
         *
         * @param maxWait how long to wait
         * @return the fencing token of the lock it took
         * @throws IllegalStateException if the child died or did not take the lock in time; the message
         *                               holds the end of its standard error
         */
        public long awaitHeld(Duration maxWait) {
            Path held = directory.resolve(ContentionWorker.HELD);
            long deadline = System.nanoTime() + maxWait.toNanos();
            while (!Files.exists(held)) {
                if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("The holder JVM did not take its lock within " + maxWait
                            + (process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")")
                            + "; stderr tail:\n" + tail(directory.resolve("holder.err")));
                }
                ContentionWorker.awaitFile(held, Duration.ofMillis(20));
            }
            try {
                return Long.parseLong(Files.readString(held, StandardCharsets.UTF_8).trim());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Kills the child at once (SIGKILL on Unix: no shutdown hook runs, nothing is released) and waits
         * for it to end.
         *
         * @throws IllegalStateException if it is still alive 10 seconds later
         */
        public void kill() {
            process.destroyForcibly();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("The holder JVM (pid " + process.pid() + ") did not die");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while killing the holder JVM", e);
            }
        }

        /**
         * Returns the child process.
         *
         * @return the process
         */
        public Process process() {
            return process;
        }

        /** Kills the child if it still runs. */
        @Override
        public void close() {
            if (process.isAlive()) {
                kill();
            }
        }
    }

    /** Builds a {@link MultiJvmContention}. */
    public static final class Builder {
        private final Map<String, String> systemProperties = new LinkedHashMap<>();
        private final List<String> jvmOptions = new ArrayList<>();
        private int jvms = 3;
        private int iterations = 20;
        private @Nullable String key;
        private Duration timeout = Duration.ofMinutes(2);
        private Duration executeTimeout = Duration.ofSeconds(30);
        private Duration expire = Duration.ofSeconds(30);
        private @Nullable Path workDirectory;

        private Builder() {}

        /**
         * Adds a system property for every child, such as {@code locking.default=lp_redis}.
         *
         * @param name  the property name
         * @param value its value
         * @return this builder
         */
        public Builder systemProperty(String name, String value) {
            systemProperties.put(name, value);
            return this;
        }

        /**
         * Adds system properties for every child.
         *
         * @param properties names and values
         * @return this builder
         */
        public Builder systemProperties(Map<String, String> properties) {
            systemProperties.putAll(properties);
            return this;
        }

        /**
         * Adds a JVM option for every child, such as {@code -Xmx512m}.
         *
         * @param option the option
         * @return this builder
         */
        public Builder jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        /**
         * Sets how many child JVMs contend.
         *
         * @param jvms at least 1; default 3
         * @return this builder
         */
        public Builder jvms(int jvms) {
            if (jvms < 1) {
                throw new IllegalArgumentException("jvms must be at least 1: " + jvms);
            }
            this.jvms = jvms;
            return this;
        }

        /**
         * Sets how many {@code execute} calls each child makes.
         *
         * @param iterations at least 1; default 20
         * @return this builder
         */
        public Builder iterations(int iterations) {
            if (iterations < 1) {
                throw new IllegalArgumentException("iterations must be at least 1: " + iterations);
            }
            this.iterations = iterations;
            return this;
        }

        /**
         * Sets the key the children lock.
         *
         * @param key the key; by default a fresh one per run
         * @return this builder
         */
        public Builder key(String key) {
            this.key = key;
            return this;
        }

        /**
         * Sets how long {@link #run()} waits for all children before killing them.
         *
         * @param timeout positive; default 2 minutes
         * @return this builder
         */
        public Builder timeout(Duration timeout) {
            this.timeout = positive("timeout", timeout);
            return this;
        }

        /**
         * Sets the timeout of each {@code execute} in the children.
         *
         * @param executeTimeout positive; default 30 seconds
         * @return this builder
         */
        public Builder executeTimeout(Duration executeTimeout) {
            this.executeTimeout = positive("executeTimeout", executeTimeout);
            return this;
        }

        /**
         * Sets the lease of each {@code execute} in the children.
         *
         * @param expire positive; default 30 seconds
         * @return this builder
         */
        public Builder expire(Duration expire) {
            this.expire = positive("expire", expire);
            return this;
        }

        /**
         * Sets where the shared directories are created.
         *
         * @param workDirectory a directory; by default the system's temporary directory
         * @return this builder
         */
        public Builder workDirectory(Path workDirectory) {
            this.workDirectory = workDirectory;
            return this;
        }

        /**
         * Builds the launcher.
         *
         * @return a launcher sharing no state with this builder
         */
        public MultiJvmContention build() {
            return new MultiJvmContention(this);
        }

        private static Duration positive(String name, Duration value) {
            if (value.isZero() || value.isNegative()) {
                throw new IllegalArgumentException(name + " must be positive: " + value);
            }
            return value;
        }
    }
}
