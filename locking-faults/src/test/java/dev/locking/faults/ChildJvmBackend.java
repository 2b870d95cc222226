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
 * A backend server that runs as a main class of this module in a child JVM on a fixed port, and prints a
 * line starting with {@code READY } once it serves: the suite can kill it (SIGKILL), start it again on the
 * same port, and freeze (SIGSTOP) and thaw it. Each start is a new JVM, named for its generation.
 *
 * <p>Concurrency: the test's thread and a scenario's fault thread call it; the running server and its
 * generation are guarded by this object's monitor, the port, directory and command are fixed.
 */
abstract class ChildJvmBackend implements Backend {
    private static final Duration START_BOUND = Duration.ofSeconds(90);

    final Path dir;
    final int port;
    private final String jvmName;
    private final Class<?> mainClass;
    @GuardedBy("this")
    private int generation;
    @GuardedBy("this")
    private @Nullable ChildJvm server;

    ChildJvmBackend(Path dir, int port, String jvmName, Class<?> mainClass) {
        this.dir = dir;
        this.port = port;
        this.jvmName = jvmName;
        this.mainClass = mainClass;
    }

    /** A port nobody listens on right now, on the loopback address. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A directory {@code prefix-port} under {@code parent}, created if it is not there. */
    static Path directory(Path parent, String prefix, int port) {
        try {
            return Files.createDirectories(parent.resolve(prefix + "-" + port));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The main class's arguments; the same for every start. */
    abstract List<String> arguments();

    /** Starts the server (again, on the same port) and waits until it says READY. */
    @Override
    public synchronized void begin() {
        if (server != null) {
            throw new IllegalStateException(name() + " already runs on " + port);
        }
        CompletableFuture<String> ready = new CompletableFuture<>();
        generation++;
        ChildJvm jvm = ChildJvm.start(jvmName + "-" + generation, dir, mainClass, Map.of(), arguments(), line -> {
            if (line.startsWith("READY ")) {
                ready.complete(line);
            }
        });
        server = jvm;
        try {
            ready.get(START_BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new IllegalStateException(name() + " on " + port + " did not start within " + START_BOUND + ":\n"
                    + jvm.errorTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private synchronized ChildJvm running() {
        ChildJvm s = server;
        if (s == null) {
            throw new IllegalStateException(name() + " on " + port + " is not running");
        }
        return s;
    }

    /** Kills the server at once (SIGKILL) and waits until it is gone. */
    @Override
    public synchronized void kill() throws InterruptedException {
        ChildJvm s = running();
        server = null;
        s.kill();
        if (s.awaitExit(Duration.ofSeconds(20)).isEmpty()) {
            throw new IllegalStateException(name() + " survived SIGKILL for 20 s");
        }
        s.close();
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
