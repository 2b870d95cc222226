package dev.locking.redis;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;

/**
 * One {@code redis-server} process on a free port, started by a test and stopped by it (also at JVM exit).
 * It can be stopped and started again on the same port, to test a provider across a restart.
 */
final class RedisProcess implements AutoCloseable {
    private static final String BINARY = "redis-server";

    private final Path dir;
    private final int port;
    private final List<String> extraArgs;
    private final @Nullable SSLContext tls;
    private final @Nullable String password;
    private volatile @Nullable Process process;
    private final Thread shutdownHook;

    private RedisProcess(Path dir, int port, List<String> extraArgs, @Nullable SSLContext tls,
            @Nullable String password) {
        this.dir = dir;
        this.port = port;
        this.extraArgs = List.copyOf(extraArgs);
        this.tls = tls;
        this.password = password;
        this.shutdownHook = new Thread(this::kill, "redis-process-" + port + "-killer");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Whether {@code redis-server} can be run here. */
    static boolean binaryAvailable() {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator, -1)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, BINARY))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Skips the calling test when {@code redis-server} is missing, or fails it when {@code CI=true}: in CI a
     * missing backend is a broken build, not a reason to skip.
     */
    static void requireBinary() {
        if (binaryAvailable()) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("redis-server is not on the PATH, and CI=true: install it (.ci/run"
                    + " does) or set REDIS_URL");
        }
        Assumptions.abort("redis-server is not on the PATH (install it or set REDIS_URL); CI=true would fail here");
    }

    static RedisProcess start(String... extraArgs) {
        return startWith(null, null, extraArgs);
    }

    /** Starts a server on a free port; {@code tls} makes it a TLS-only server whose client side uses it. */
    static RedisProcess startWith(@Nullable SSLContext tls, @Nullable String password, String... extraArgs) {
        return start(freePort(false), tls, password, extraArgs);
    }

    static RedisProcess start(int port, @Nullable SSLContext tls, @Nullable String password, String... extraArgs) {
        requireBinary();
        try {
            Path dir = Files.createTempDirectory("redis-" + port + "-");
            RedisProcess redis = new RedisProcess(dir, port, List.of(extraArgs), tls, password);
            redis.begin();
            return redis;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return port;
    }

    Path dir() {
        return dir;
    }

    String address() {
        return (tls != null ? "rediss://" : "redis://") + "127.0.0.1:" + port;
    }

    /** A new admin connection (authenticated as the default user when the server has a password). */
    RespClient admin() {
        return RespClient.connect("127.0.0.1", port, tls, null, password);
    }

    /** Starts the server (again, on the same port) and waits until it answers. */
    synchronized void begin() {
        if (process != null) {
            throw new IllegalStateException("already running on " + port);
        }
        List<String> command = new ArrayList<>(List.of(BINARY));
        List<String> args = new ArrayList<>(extraArgs);
        if (!args.isEmpty() && args.get(0).endsWith(".conf")) {
            command.add(args.remove(0)); // a config file must come first (a sentinel's, for instance)
        }
        command.addAll(List.of("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--daemonize", "no", "--protected-mode", "no"));
        if (tls == null) {
            command.addAll(List.of("--port", Integer.toString(port)));
        } else {
            command.addAll(List.of("--port", "0", "--tls-port", Integer.toString(port)));
        }
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis.log").toFile()));
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start redis-server", e);
        }
        await("redis-server on port " + port + " answers PING")
                .atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(50))
                .ignoreExceptions()
                .until(() -> {
                    Process p = process;
                    if (p == null || !p.isAlive()) {
                        throw new IllegalStateException("redis-server exited; see " + dir.resolve("redis.log"));
                    }
                    try (RespClient admin = admin()) {
                        return "PONG".equals(admin.string("PING"));
                    }
                });
    }

    /** Stops the server (SIGTERM, then SIGKILL) and waits until it is gone. */
    synchronized void stop() {
        Process p = process;
        process = null;
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    private void kill() {
        Process p = process;
        if (p != null) {
            p.destroyForcibly();
        }
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down
        }
    }

    /**
     * A port nobody listens on now. For cluster nodes the bus port ({@code port + 10000}) must be free too,
     * so those come from a range that leaves room for it.
     */
    static int freePort(boolean withBusPort) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = withBusPort ? ThreadLocalRandom.current().nextInt(20000, 40000) : 0;
            try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                int found = socket.getLocalPort();
                if (!withBusPort) {
                    return found;
                }
                new ServerSocket(found + 10000, 1, InetAddress.getLoopbackAddress()).close();
                return found;
            } catch (IOException e) {
                // taken: try another
            }
        }
        throw new IllegalStateException("no free port found");
    }
}
