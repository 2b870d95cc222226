package dev.locking.tck;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The program each child JVM of {@link MultiJvmContention} runs. It builds its service with
 * {@code Locking.create()}, so the provider it uses is the one the {@code -D} system properties given to the
 * child configure (for example {@code -Dlocking.default=lp_redis}).
 *
 * <p>Two modes, both communicating with the parent through files in a shared directory (never through
 * standard output):
 * <ul>
 *   <li>{@code contend <dir> <key> <iterations> <executeTimeoutMillis> <expireMillis> <index> <maxWaitMillis>}:
 *       writes {@code ready-<index>}, waits for the file {@code go}, then runs {@code execute(key, job)}
 *       {@code iterations} times. The job marks the critical section with the file {@code holder} (finding it
 *       already there is an overlap) and increments the number in the file {@code counter}. At the end it
 *       writes {@code result-<index>} ({@code executed=…} and {@code overlaps=…}) and exits 0.</li>
 *   <li>{@code hold <dir> <key> <leaseMillis> <maxLifeMillis>}: acquires the key with that lease under an owner
 *       of its own, writes the fencing token to the file {@code held}, and then blocks until it is killed (or,
 *       so that no JVM is left behind, until {@code maxLifeMillis} passed).</li>
 * </ul>
 * Exit codes: 0 done, 1 failed (the stack trace is on standard error), 2 bad arguments, 3 the {@code go} file
 * never came.
 *
 * @since 0.1.0
 */
public final class ContentionWorker {

    /** Exit code of a child whose call failed. */
    static final int EXIT_FAILED = 1;
    /** Exit code of a child started with bad arguments. */
    static final int EXIT_USAGE = 2;
    /** Exit code of a child that never saw the start signal. */
    static final int EXIT_NO_START = 3;

    static final String COUNTER = "counter";
    static final String HOLDER = "holder";
    static final String GO = "go";
    static final String HELD = "held";

    private ContentionWorker() {}

    /**
     * Runs one child; see the class description for the arguments. Always ends the JVM with
     * {@link System#exit(int)}, since a provider may keep non-daemon threads.
     *
     * @param args the mode and its arguments
     */
    public static void main(String[] args) {
        int code;
        try {
            code = run(args);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.err.println(stackTrace(e));
            code = EXIT_FAILED;
        } catch (IOException | RuntimeException | Error e) {
            System.err.println(stackTrace(e));
            code = EXIT_FAILED;
        }
        System.exit(code);
    }

    static int run(String[] args) throws IOException, InterruptedException {
        if (args.length == 8 && args[0].equals("contend")) {
            return contend(Paths.get(args[1]), args[2], Integer.parseInt(args[3]), millis(args[4]), millis(args[5]),
                    Integer.parseInt(args[6]), millis(args[7]));
        }
        if (args.length == 5 && args[0].equals("hold")) {
            return hold(Paths.get(args[1]), args[2], millis(args[3]), millis(args[4]));
        }
        System.err.println("usage: ContentionWorker contend <dir> <key> <iterations> <executeTimeoutMillis>"
                + " <expireMillis> <index> <maxWaitMillis>\n"
                + "       ContentionWorker hold <dir> <key> <leaseMillis> <maxLifeMillis>");
        return EXIT_USAGE;
    }

    private static int contend(Path dir, String key, int iterations, Duration executeTimeout, Duration expire,
            int index, Duration maxWait) throws IOException {
        ExecuteOptions options = ExecuteOptions.builder().timeout(executeTimeout).expire(expire).build();
        try (LockingService locking = Locking.create()) {
            writeAtomically(dir, "ready-" + index, Long.toString(ProcessHandle.current().pid()));
            if (!awaitFile(dir.resolve(GO), maxWait)) {
                System.err.println("no start signal (" + dir.resolve(GO) + ") within " + maxWait);
                return EXIT_NO_START;
            }
            int overlaps = 0;
            int executed = 0;
            for (int i = 0; i < iterations; i++) {
                if (locking.execute(key, lock -> criticalSection(dir, () -> LockSupport.parkNanos(100_000)), options)) {
                    overlaps++;
                }
                executed++;
            }
            writeAtomically(dir, "result-" + index, "executed=" + executed + "\noverlaps=" + overlaps + "\n");
        }
        return 0;
    }

    private static int hold(Path dir, String key, Duration lease, Duration maxLife)
            throws IOException, InterruptedException {
        try (LockingService locking = Locking.create()) {
            Lease taken = locking.acquire(key, AcquireOptions.builder()
                    .ownerId("tck-holder-" + ProcessHandle.current().pid())
                    .expire(lease)
                    .build());
            writeAtomically(dir, HELD, Long.toString(taken.fencingTokens().getOrDefault(key, 0L)));
            // Block until killed; the bound only keeps a forgotten child from living forever.
            if (!new CountDownLatch(1).await(maxLife.toMillis(), TimeUnit.MILLISECONDS)) {
                System.err.println("holder was not killed within " + maxLife + "; exiting");
            }
            return 0;
        }
    }

    /**
     * The job's body: marks the critical section with the file {@code holder}, increments the counter file
     * (read, {@code inside}, write), and unmarks it.
     *
     * @param dir    the shared directory
     * @param inside run between reading and writing the counter, to widen the window for a race
     * @return true if another holder was inside at the same time (an overlap)
     */
    static boolean criticalSection(Path dir, Runnable inside) throws IOException {
        Path holder = dir.resolve(HOLDER);
        boolean overlap;
        try {
            Files.createFile(holder);
            overlap = false;
        } catch (FileAlreadyExistsException e) {
            overlap = true;
        }
        Path counter = dir.resolve(COUNTER);
        long value = Files.exists(counter) ? Long.parseLong(Files.readString(counter, StandardCharsets.UTF_8).trim()) : 0;
        inside.run();
        writeAtomically(dir, COUNTER, Long.toString(value + 1));
        if (!overlap) {
            Files.deleteIfExists(holder);
        }
        return overlap;
    }

    /** Writes a file through a temporary file and a rename, so that a reader never sees it half written. */
    static void writeAtomically(Path dir, String name, String content) throws IOException {
        Path tmp = dir.resolve(name + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Waits (polling every 10 ms, across processes there is nothing to block on) until a file exists. */
    static boolean awaitFile(Path file, Duration maxWait) {
        long deadline = System.nanoTime() + maxWait.toNanos();
        while (!Files.exists(file)) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return true;
    }

    static String stackTrace(Throwable t) {
        StringWriter out = new StringWriter();
        t.printStackTrace(new PrintWriter(out));
        return out.toString();
    }

    private static Duration millis(String value) {
        return Duration.ofMillis(Long.parseLong(value));
    }
}
