package dev.locking.faults;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A Hazelcast member the suite owns ({@link HazelcastMemberMain} in a child JVM) on a free port, with a
 * cluster name of its own, which it can kill (SIGKILL), restart on the same port (empty: open-source
 * Hazelcast keeps nothing on disk), and freeze (SIGSTOP) and thaw. The providers connect to it as clients.
 *
 * <p>Concurrency: the test's thread and a scenario's fault thread call it; the running member and its
 * generation are guarded by this object's monitor, the port, cluster name and directory are fixed.
 */
final class HazelcastBackend implements Backend {
    private static final Duration START_BOUND = Duration.ofSeconds(90);

    private final Path dir;
    private final int port;
    private final String clusterName;
    @GuardedBy("this")
    private int generation;
    @GuardedBy("this")
    private @Nullable ChildJvm member;

    private HazelcastBackend(Path dir, int port) {
        this.dir = dir;
        this.port = port;
        this.clusterName = "faults-" + port;
    }

    static HazelcastBackend start(Path parent) {
        try {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            }
            HazelcastBackend hz = new HazelcastBackend(Files.createDirectories(parent.resolve("hazelcast-" + port)),
                    port);
            hz.begin();
            return hz;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The provider's options for a client of this member. */
    Map<String, String> clientOptions(String providerName) {
        String prefix = "locking.providers." + providerName + ".";
        return Map.of(
                prefix + "type", "hazelcast",
                prefix + "members", "127.0.0.1:" + port,
                prefix + "clusterName", clusterName);
    }

    /** Starts the member (again, same port, empty) and waits until it serves. */
    @Override
    public synchronized void begin() {
        if (member != null) {
            throw new IllegalStateException("already running on " + port);
        }
        CompletableFuture<String> ready = new CompletableFuture<>();
        generation++;
        ChildJvm jvm = ChildJvm.start("hazelcast-" + generation, dir, HazelcastMemberMain.class, Map.of(),
                List.of(Integer.toString(port), clusterName),
                line -> {
                    if (line.startsWith("READY ")) {
                        ready.complete(line);
                    }
                });
        member = jvm;
        try {
            ready.get(START_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalStateException("Hazelcast member on " + port + " did not start within " + START_BOUND
                    + ":\n" + jvm.errorTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private synchronized ChildJvm running() {
        ChildJvm m = member;
        if (m == null) {
            throw new IllegalStateException("Hazelcast member on " + port + " is not running");
        }
        return m;
    }

    /** Kills the member at once (SIGKILL) and waits until it is gone; its locks go with it. */
    @Override
    public synchronized void kill() throws InterruptedException {
        ChildJvm m = running();
        member = null;
        m.kill();
        if (m.awaitExit(Duration.ofSeconds(20)).isEmpty()) {
            throw new IllegalStateException("the Hazelcast member survived SIGKILL for 20 s");
        }
        m.close();
    }

    @Override
    public String name() {
        return "Hazelcast member";
    }

    @Override
    public void freeze() {
        Signals.stop(running().pid());
    }

    @Override
    public void thaw() {
        Signals.cont(running().pid());
    }

    @Override
    public synchronized void close() {
        ChildJvm m = member;
        member = null;
        if (m != null) {
            m.close(); // SIGKILL: also ends a frozen member
        }
    }
}
