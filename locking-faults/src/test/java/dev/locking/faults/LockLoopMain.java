package dev.locking.faults;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockHandle;
import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A child JVM of the fault suite: a service from {@code Locking.create()} (configured by the system
 * properties on its command line) and one thread per loop that calls {@code execute} on one key again and
 * again. Inside the job it writes to the {@link FencedResource} with the handle's fencing token every
 * {@value #WRITE_INTERVAL_MILLIS} ms, hold / {@value #WRITE_INTERVAL_MILLIS} times.
 *
 * <p>A job whose handle turns lost reports it and then writes once more with its old token, as a job that
 * does not look at its handle would: the resource must refuse that write once a newer holder wrote.
 *
 * <p>It reports on standard output, one line per event, each with the wall-clock time in milliseconds
 * (children and the test share the machine's clock):
 * <pre>
 * READY  ms
 * GOT    ms key token          the job started
 * END    ms key token          the job ended (its last write is done; the release follows)
 * WRITE  ms key token OK|STALE|ERR
 * LOST   ms key token          the job saw its handle lost
 * DONE   ms key token          execute returned normally
 * FAIL   ms key token Exception text   execute threw (token -1: before the job ran)
 * BYE    ms                    the service is closed; the JVM exits with 0
 * </pre>
 * It stops when its standard input says {@code STOP} or ends (the test died): the loops are interrupted,
 * the service closed. A watchdog ends it after its maximum life whatever happens.
 *
 * <p>Arguments: {@code resourcePort childName maxLifeMillis loop...}, each loop
 * {@code provider,key,leaseMillis,holdMillis,timeoutMillis}.
 *
 * <p>Concurrency: the loops' threads, the standard-input reader and the watchdog all report through
 * {@link #emit}, which holds the class's monitor so that lines never interleave; {@code stopping} is
 * volatile.
 */
public final class LockLoopMain {
    static final long WRITE_INTERVAL_MILLIS = 100;
    /** A pause between two calls of one loop, so that the other children get their turn. */
    private static final long PAUSE_BETWEEN_CALLS_MILLIS = 50;

    private static final PrintStream OUT = System.out;
    private static volatile boolean stopping;

    private LockLoopMain() {}

    record Loop(String provider, String key, long leaseMillis, long holdMillis, long timeoutMillis) {
        static Loop parse(String spec) {
            String[] p = spec.split(",", -1);
            return new Loop(p[0], p[1], Long.parseLong(p[2]), Long.parseLong(p[3]), Long.parseLong(p[4]));
        }

        String spec() {
            return provider + "," + key + "," + leaseMillis + "," + holdMillis + "," + timeoutMillis;
        }
    }

    /**
     * Runs the loops until told to stop.
     *
     * @param args {@code resourcePort childName maxLifeMillis loop...}
     */
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        String name = args[1];
        long maxLife = Long.parseLong(args[2]);
        startWatchdog(maxLife);
        List<Loop> loops = new ArrayList<>();
        for (int i = 3; i < args.length; i++) {
            loops.add(Loop.parse(args[i]));
        }
        LockingService service = Locking.create();
        List<Thread> threads = new ArrayList<>();
        for (Loop loop : loops) {
            Thread t = new Thread(() -> runLoop(service, loop, name, port), "loop-" + loop.provider + "-" + loop.key);
            threads.add(t);
        }
        emit("READY");
        threads.forEach(Thread::start);
        waitForStop();
        stopping = true;
        threads.forEach(Thread::interrupt);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(20));
            } catch (InterruptedException e) {
                break;
            }
        }
        service.close();
        emit("BYE");
        OUT.flush();
        System.exit(0);
    }

    private static void waitForStop() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().equals("STOP")) {
                    return;
                }
            }
        } catch (IOException e) {
            // the test is gone: stop as well
        }
    }

    private static void startWatchdog(long maxLifeMillis) {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(maxLifeMillis);
            } catch (InterruptedException e) {
                return;
            }
            emit("FAIL", "-", "-1", "Watchdog", "maximum life of " + maxLifeMillis + " ms reached");
            OUT.flush();
            Runtime.getRuntime().halt(3);
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    private static void runLoop(LockingService service, Loop loop, String name, int port) {
        try (ResourceClient resource = new ResourceClient(port, name)) {
            ExecuteOptions options = ExecuteOptions.builder()
                    .provider(loop.provider)
                    .expire(Duration.ofMillis(loop.leaseMillis))
                    .timeout(Duration.ofMillis(loop.timeoutMillis))
                    .build();
            while (!stopping) {
                long[] token = {-1};
                try {
                    service.execute(loop.key, handle -> {
                        token[0] = handle.fencingToken(loop.key);
                        job(handle, loop, token[0], resource);
                        emit("END", loop.key, Long.toString(token[0]));
                        return null;
                    }, options);
                    emit("DONE", loop.key, Long.toString(token[0]));
                } catch (RuntimeException e) {
                    if (stopping) {
                        break;
                    }
                    emit("FAIL", loop.key, Long.toString(token[0]), e.getClass().getSimpleName(),
                            String.valueOf(e.getMessage()));
                }
                try {
                    Thread.sleep(PAUSE_BETWEEN_CALLS_MILLIS);
                } catch (InterruptedException e) {
                    if (stopping) {
                        break;
                    }
                }
            }
        }
    }

    private static void job(LockHandle handle, Loop loop, long token, ResourceClient resource) {
        emit("GOT", loop.key, Long.toString(token));
        // A number of writes rather than a deadline: a job frozen in the middle goes on writing when it wakes,
        // as real work would, so its late writes reach the resource.
        long writes = Math.max(1, loop.holdMillis / WRITE_INTERVAL_MILLIS);
        for (long i = 0; i < writes; i++) {
            resource.write(loop.key, token);
            try {
                Thread.sleep(WRITE_INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                if (handle.isLost()) {
                    emit("LOST", loop.key, Long.toString(token));
                    resource.write(loop.key, token); // a job that does not look at its handle writes on
                    return;
                }
                if (stopping) {
                    return;
                }
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static synchronized void emit(String event, String... fields) {
        StringBuilder line = new StringBuilder(event).append(' ').append(System.currentTimeMillis());
        for (String f : fields) {
            line.append(' ').append(f.replace('\n', ' ').replace('\r', ' '));
        }
        OUT.println(line);
        OUT.flush();
    }

    /** One connection to the fenced resource, per loop thread. */
    private static final class ResourceClient implements AutoCloseable {
        private final int port;
        private final String writer;
        private @Nullable Socket socket;
        private @Nullable BufferedReader in;
        private @Nullable Writer out;

        ResourceClient(int port, String writer) {
            this.port = port;
            this.writer = writer;
        }

        void write(String key, long token) {
            String reply;
            try {
                if (socket == null) {
                    Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                    s.setSoTimeout(10_000);
                    socket = s;
                    in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
                    out = new OutputStreamWriter(s.getOutputStream(), StandardCharsets.UTF_8);
                }
                Writer w = out;
                BufferedReader r = in;
                if (w == null || r == null) {
                    throw new IOException("not connected");
                }
                w.write("W " + writer + " " + key + " " + token + "\n");
                w.flush();
                String line = r.readLine();
                reply = line == null ? "ERR" : line;
            } catch (IOException e) {
                reply = "ERR";
                close();
            }
            emit("WRITE", key, Long.toString(token), reply);
        }

        @Override
        public void close() {
            Socket s = socket;
            socket = null;
            in = null;
            out = null;
            if (s != null) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
    }
}
