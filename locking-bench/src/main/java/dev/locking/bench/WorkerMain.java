package dev.locking.bench;

import dev.locking.api.LockingService;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * One JVM of a cross-process workload (W7, W8): connects its own client to the bench's backend server, builds
 * its own {@code LockingService} on it and the peers on the same client, then runs what the bench sends on
 * standard input, one line each, answering with lines that start with {@code BENCH }:
 *
 * <pre>
 * LIST                      → CONTENDERS name...           (URL-encoded)
 * PREPARE workload contender threads keyPrefix warmupMs measureMs graceMs sharedFile hold
 *                           → PREPARED name                 (the name to report, W8's multi-key name for a peer)
 * GO                        → RESULT ops entries overlaps errors stuck threadOps histogram firstError
 * </pre>
 *
 * The bench sends {@code GO} to every worker once all answered {@code PREPARED}, so all measure the same
 * window. A worker exits when its standard input ends (the bench closed it or died).
 *
 * <p>Concurrency: commands are read and answered by the main thread, which alone sets up and starts a
 * measurement; the measurement's worker threads share the contenders (each safe for concurrent use), the
 * {@link SharedCounters} and the entry and overlap adders, and are joined (or abandoned as stuck) before
 * the answer is written.
 */
public final class WorkerMain {
    /** The backend of the worker tests: no server, a lock on a file or none at all. */
    static final String LOCAL = "local";
    static final String NO_LOCK = "no lock";
    static final String FILE_LOCK = "FileChannel.lock";

    private final Map<String, Contender> contenders;
    private @Nullable Prepared prepared;

    private WorkerMain(Map<String, Contender> contenders) {
        this.contenders = contenders;
    }

    /** A measurement set up by {@code PREPARE}, run by {@code GO}. */
    private record Prepared(String label, int threads, Runner.Timing timing, Runner.Step step, LongAdder entries,
            LongAdder overlaps) {}

    /**
     * Connects, says {@code READY}, then serves commands until standard input ends.
     *
     * @param args the backend ({@code redis}, {@code zookeeper}, {@code hazelcast}, or {@code local} with a
     *             lock file as address), its address, and the Hazelcast cluster name (or {@code -})
     * @throws IOException if standard input or output fail
     */
    public static void main(String[] args) throws IOException {
        BenchMain.quietDefaults();
        String backend = args[0];
        Backends clients = backend.equals(LOCAL) ? null : Backends.clients(backend, args[1], args[2]);
        LockingService service = clients == null ? null : BenchMain.service(clients);
        try {
            WorkerMain worker = new WorkerMain(contenders(backend, args[1], clients, service));
            System.out.println(ChildProcess.READY + ProcessHandle.current().pid());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                String reply;
                try {
                    reply = worker.serve(line.trim().split(" ", -1));
                } catch (RuntimeException e) {
                    e.printStackTrace();
                    reply = "FAILED " + encode(e.toString());
                }
                System.out.println(ChildProcess.REPLY + reply);
                System.out.flush();
            }
        } finally {
            if (service != null) {
                service.close();
            }
            if (clients != null) {
                clients.close();
            }
        }
        System.exit(0); // threads a peer left stuck are daemons, but a client's may not be
    }

    private String serve(String[] command) {
        return switch (command[0]) {
            case "LIST" -> "CONTENDERS " + contenders.keySet().stream().map(WorkerMain::encode)
                    .collect(Collectors.joining(" "));
            case "PREPARE" -> prepare(command);
            case "GO" -> go();
            default -> throw new IllegalArgumentException("unknown command: " + String.join(" ", command));
        };
    }

    private String prepare(String[] a) {
        String workload = a[1];
        Contender c = contenders.get(decode(a[2]));
        if (c == null) {
            throw new IllegalArgumentException("no contender " + decode(a[2]) + " here; have " + contenders.keySet());
        }
        int threads = Integer.parseInt(a[3]);
        String prefix = decode(a[4]);
        Runner.Timing timing = new Runner.Timing(Duration.ofMillis(Long.parseLong(a[5])),
                Duration.ofMillis(Long.parseLong(a[6])), Duration.ofMillis(Long.parseLong(a[7])));
        SharedCounters shared = SharedCounters.open(Path.of(decode(a[8])));
        boolean hold = Boolean.parseBoolean(a[9]);
        LongAdder entries = new LongAdder();
        LongAdder overlaps = new LongAdder();
        long[] entered = new long[threads];
        Runner.Step step;
        if (workload.equals("W7")) {
            List<String> key = List.of(prefix + "hot");
            step = (thread, i, giveUp) -> {
                long t0 = System.nanoTime();
                c.locked(key, () -> {
                    entered[thread] = System.nanoTime();
                    if (shared.enter(0)) {
                        overlaps.increment();
                    }
                    shared.incrementUnsynchronised();
                    entries.increment();
                    if (hold) {
                        holdUntilAnotherEntered(shared, giveUp);
                    }
                    shared.leave(0);
                }, giveUp);
                return entered[thread] - t0;
            };
        } else if (workload.equals("W8")) {
            // The peers deadlock in the caller's order (W4 shows it), so they take the keys sorted.
            step = Workloads.multiKeyStep(Workloads.keys16(prefix), threads, c, !c.ours(), shared::enter,
                    shared::leave, overlaps, entries::increment);
        } else {
            throw new IllegalArgumentException("not a cross-process workload: " + workload);
        }
        prepared = new Prepared(workload + "-" + c.name(), threads, timing, step, entries, overlaps);
        return "PREPARED " + encode(workload.equals("W8") ? c.multiName() : c.name());
    }

    /**
     * For the overlap test with no lock: stays inside until another holder entered after this one (the shared
     * counter moved on), so the test sees an overlap without depending on timing; bounded by the give-up time.
     */
    private static void holdUntilAnotherEntered(SharedCounters shared, long giveUpNanos) {
        int mine = shared.counter();
        while (shared.counter() == mine && System.nanoTime() < giveUpNanos) {
            LockSupport.parkNanos(100_000);
        }
    }

    private String go() {
        Prepared p = prepared;
        if (p == null) {
            throw new IllegalStateException("GO before PREPARE");
        }
        prepared = null;
        Runner.Measurement m = Runner.run(p.label(), p.threads(), p.timing(), p.step());
        return String.join(" ", "RESULT", Long.toString(m.ops()), Long.toString(p.entries().sum()),
                Long.toString(p.overlaps().sum()), Long.toString(m.errors()), Integer.toString(m.stuckThreads()),
                m.threadOps().stream().map(String::valueOf).collect(Collectors.joining(",")),
                encodeHistogram(m.histogram()), m.firstError() == null ? "-" : encode(m.firstError()));
    }

    /** The contenders of a backend, ours first, each by its name. */
    private static Map<String, Contender> contenders(String backend, String address, @Nullable Backends b,
            @Nullable LockingService service) {
        List<Contender> list = new ArrayList<>();
        if (backend.equals(LOCAL)) {
            list.add(noLock());
            list.add(fileLock(Path.of(address)));
        } else if (b != null && service != null) {
            String provider = "lp_" + backend;
            if (b.postgres != null) {
                list.addAll(BenchMain.postgresContenders(service, b.postgres, true));
            } else {
                list.add(new OursContender(service, provider));
            }
            if (b.redisson != null) {
                list.add(Peers.redisson(b.redisson, BenchMain.REDIS_PEER_PREFIX));
                list.add(Peers.redissonFair(b.redisson, BenchMain.REDIS_PEER_PREFIX));
            }
            if (b.curator != null) {
                list.add(Peers.curator(b.curator, BenchMain.ZOOKEEPER_PEER_ROOT));
            }
            if (b.hazelcast != null) {
                list.add(Peers.hazelcast(b.hazelcast, BenchMain.HAZELCAST_PEER_MAP));
            }
        }
        Map<String, Contender> map = new LinkedHashMap<>();
        list.forEach(c -> map.put(c.name(), c));
        return map;
    }

    /** Lets every caller in: the tests' way to see that overlaps are counted across processes. */
    private static Contender noLock() {
        return new TestContender(NO_LOCK) {
            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) {
                section.run();
            }
        };
    }

    /**
     * A real lock across processes without a server: a lock on a file (per process), behind a
     * {@code ReentrantLock} (per thread, as a file lock is held by the whole process).
     */
    private static Contender fileLock(Path file) {
        ReentrantLock inProcess = new ReentrantLock();
        return new TestContender(FILE_LOCK) {
            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                inProcess.lockInterruptibly();
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    FileLock lock = channel.lock();
                    try {
                        section.run();
                    } finally {
                        lock.release();
                    }
                } finally {
                    inProcess.unlock();
                }
            }
        };
    }

    /** A contender of the worker tests only: sections, no single-key cycle. */
    private abstract static class TestContender extends Peers.Peer {
        TestContender(String name) {
            super(name);
        }

        @Override
        public void cycle(String key) {
            throw new UnsupportedOperationException("only sections");
        }
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    static String encodeHistogram(Histogram h) {
        ByteBuffer buffer = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int length = h.encodeIntoCompressedByteBuffer(buffer);
        return Base64.getEncoder().encodeToString(Arrays.copyOf(buffer.array(), length));
    }

    static Histogram decodeHistogram(String s) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(s)), 0);
        } catch (java.util.zip.DataFormatException e) {
            throw new IllegalArgumentException("not an encoded histogram", e);
        }
    }
}
