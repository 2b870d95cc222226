package dev.locking.faults;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * A {@code redis-server} process the suite owns, on a free loopback port, which it can kill (SIGKILL),
 * restart on the same port and directory, and freeze (SIGSTOP) and thaw. With persistence the server writes
 * an append-only file and syncs it on every write ({@code appendfsync always}), so a restart keeps every
 * acknowledged write; without it a restart starts empty.
 *
 * <p>A server named by {@code REDIS_URL} cannot be killed or frozen by the suite, so this class never uses
 * one; scenarios that leave the backend alone may ({@link #externalUrl()}).
 *
 * <p>Concurrency: the test's thread and a scenario's fault thread call it. The methods that start, kill or
 * close the server hold this object's monitor, so one of them runs at a time; the process is volatile
 * because the shutdown hook reads it without the monitor (a JVM that is going down must not wait for it).
 */
final class RedisBackend implements Backend {
    private static final String BINARY = "redis-server";

    private final Path dir;
    private final int port;
    private final boolean persistent;
    private final Thread hook;
    private volatile @Nullable Process process;

    private RedisBackend(Path dir, int port, boolean persistent) {
        this.dir = dir;
        this.port = port;
        this.persistent = persistent;
        this.hook = new Thread(() -> {
            Process p = process;
            if (p != null) {
                p.destroyForcibly();
            }
        }, "kill-redis-" + port);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Starts a server on a free port; with {@code persistent}, AOF with fsync on every write. */
    static RedisBackend start(Path parent, boolean persistent) {
        requireBinary();
        try {
            int port = freePort();
            Path dir = Files.createDirectories(parent.resolve("redis-" + port));
            RedisBackend redis = new RedisBackend(dir, port, persistent);
            redis.begin();
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The server named by {@code REDIS_URL}, if that is set. */
    static @Nullable String externalUrl() {
        String url = System.getenv("REDIS_URL");
        return url == null || url.isBlank() ? null : url;
    }

    /**
     * Skips the calling test when {@code redis-server} is missing, or fails it when {@code CI=true}: in CI a
     * missing backend is a broken build, not a reason to skip.
     */
    static void requireBinary() {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator, -1)) {
                if (!d.isEmpty() && Files.isExecutable(Path.of(d, BINARY))) {
                    return;
                }
            }
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("redis-server is not on the PATH, and CI=true: install it");
        }
        Assumptions.abort("redis-server is not on the PATH; CI=true would fail here");
    }

    String address() {
        return "redis://127.0.0.1:" + port;
    }

    synchronized long pid() {
        Process p = process;
        if (p == null) {
            throw new IllegalStateException("redis-server on " + port + " is not running");
        }
        return p.pid();
    }

    /** Starts the server (again, on the same port and directory) and waits until it answers PING. */
    @Override
    public synchronized void begin() {
        if (process != null) {
            throw new IllegalStateException("already running on " + port);
        }
        List<String> command = new ArrayList<>(List.of(BINARY, "--bind", "127.0.0.1", "--port", Integer.toString(port),
                "--dir", dir.toString(), "--daemonize", "no", "--protected-mode", "no", "--save", ""));
        if (persistent) {
            command.addAll(List.of("--appendonly", "yes", "--appendfsync", "always"));
        } else {
            command.addAll(List.of("--appendonly", "no"));
        }
        try {
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start redis-server", e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!answersPing()) {
            Process p = process;
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException("redis-server exited; see " + dir.resolve("redis.log"));
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("redis-server on " + port + " did not answer within 30 s");
            }
            pause(50); // polling a process that gives no other sign of readiness
        }
    }

    /** Kills the server at once (SIGKILL), as a crash would, and waits until it is gone. */
    @Override
    public synchronized void kill() {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                throw new IllegalStateException("redis-server on " + port + " survived SIGKILL for 20 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String name() {
        return "redis-server";
    }

    @Override
    public void freeze() {
        Signals.stop(pid());
    }

    @Override
    public void thaw() {
        Signals.cont(pid());
    }

    private boolean answersPing() {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[7];
            int n = in.readNBytes(buf, 0, 7);
            return n == 7 && new String(buf, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException e) {
            return false;
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Override
    public synchronized void close() {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly(); // SIGKILL also ends a frozen server
        }
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down; the hook runs anyway
        }
    }
}
