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
 * A ZooKeeper server the suite owns ({@link ZookeeperServerMain} in a child JVM) on a free port, which it
 * can kill (SIGKILL), restart on the same port with the same data, and freeze (SIGSTOP) and thaw.
 *
 * <p>Concurrency: the test's thread and a scenario's fault thread call it; the running server and its
 * generation are guarded by this object's monitor, the port and directory are fixed.
 */
final class ZookeeperBackend implements Backend {
    /** Ticks of 500 ms: sessions may then last 1 to 10 s. */
    static final int TICK_MILLIS = 500;
    private static final Duration START_BOUND = Duration.ofSeconds(90);

    private final Path dir;
    private final int port;
    @GuardedBy("this")
    private int generation;
    @GuardedBy("this")
    private @Nullable ChildJvm server;

    private ZookeeperBackend(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    static ZookeeperBackend start(Path parent) {
        try {
            int port;
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = socket.getLocalPort();
            }
            ZookeeperBackend zk = new ZookeeperBackend(Files.createDirectories(parent.resolve("zookeeper-" + port)),
                    port);
            zk.begin();
            return zk;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String connectString() {
        return "127.0.0.1:" + port;
    }

    /** Starts the server (again, same port and data) and waits until it serves. */
    @Override
    public synchronized void begin() {
        if (server != null) {
            throw new IllegalStateException("already running on " + port);
        }
        CompletableFuture<String> ready = new CompletableFuture<>();
        generation++;
        ChildJvm jvm = ChildJvm.start("zookeeper-" + generation, dir, ZookeeperServerMain.class, Map.of(),
                List.of(Integer.toString(port), dir.resolve("data").toString(), Integer.toString(TICK_MILLIS)),
                line -> {
                    if (line.startsWith("READY ")) {
                        ready.complete(line);
                    }
                });
        server = jvm;
        try {
            ready.get(START_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalStateException("ZooKeeper on " + port + " did not start within " + START_BOUND + ":\n"
                    + jvm.errorTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private synchronized ChildJvm running() {
        ChildJvm s = server;
        if (s == null) {
            throw new IllegalStateException("ZooKeeper on " + port + " is not running");
        }
        return s;
    }

    /** Kills the server at once (SIGKILL) and waits until it is gone; its data stays on disk. */
    @Override
    public synchronized void kill() throws InterruptedException {
        ChildJvm s = running();
        server = null;
        s.kill();
        if (s.awaitExit(Duration.ofSeconds(20)).isEmpty()) {
            throw new IllegalStateException("ZooKeeper survived SIGKILL for 20 s");
        }
        s.close();
    }

    @Override
    public String name() {
        return "ZooKeeper";
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
        ChildJvm s = server;
        server = null;
        if (s != null) {
            s.close(); // SIGKILL: also ends a frozen server
        }
    }
}
