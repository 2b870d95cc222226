package dev.locking.postgres;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * One PostgreSQL server started from the {@code initdb}/{@code pg_ctl} binaries of Debian's {@code postgresql}
 * package (or any on the PATH) on a free port, with a throwaway data directory, stopped when closed (also at JVM
 * exit). {@code initdb} refuses to run as root, so as root the binaries run as the {@code postgres} user through
 * {@code runuser}, with a data directory that user owns. It can be stopped and started again on the same port.
 */
final class PostgresProcess implements AutoCloseable {
    static final String USER = "postgres";
    static final String PASSWORD = "s3cret-test-password";

    private final Path bin;
    private final Path dir;
    private final int port;
    private final boolean asRoot;
    private final Thread shutdownHook;

    private PostgresProcess(Path bin, Path dir, int port, boolean asRoot) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
        this.asRoot = asRoot;
        this.shutdownHook = new Thread(this::stopQuietly, "postgres-" + port + "-stopper");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** The directory with {@code initdb} and {@code pg_ctl}, or null when there is none. */
    static @Nullable Path binaries() {
        List<Path> candidates = new ArrayList<>();
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.sorted(Comparator.reverseOrder()).forEach(v -> candidates.add(v.resolve("bin")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator, -1)) {
                if (!d.isEmpty()) {
                    candidates.add(Path.of(d));
                }
            }
        }
        for (Path candidate : candidates) {
            if (Files.isExecutable(candidate.resolve("initdb")) && Files.isExecutable(candidate.resolve("pg_ctl"))) {
                return realBin(candidate);
            }
        }
        return null;
    }

    private static Path realBin(Path candidate) {
        try {
            Path parent = candidate.resolve("pg_ctl").toRealPath().getParent();
            return parent == null ? candidate : parent;
        } catch (IOException e) {
            return candidate;
        }
    }

    static PostgresProcess start(Path bin) {
        try {
            boolean asRoot = "root".equals(System.getProperty("user.name"));
            Path dir = Files.createTempDirectory("locking-postgres");
            int port = freePort();
            PostgresProcess p = new PostgresProcess(bin, dir, port, asRoot);
            Path pwfile = dir.resolve("pwfile");
            Files.writeString(pwfile, PASSWORD + "\n");
            if (asRoot) {
                p.run(List.of("chown", "-R", USER, dir.toString()), false);
            }
            p.run(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER,
                    "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync"), true);
            p.startServer();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    int port() {
        return port;
    }

    /** Starts the server (again), on the same port and data. */
    void startServer() {
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
                dir.resolve("log").toString(), "-w", "-t", "60", "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                        + " -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB", "start"), true);
    }

    /** Stops the server: {@code fast} lets it finish cleanly, {@code immediate} is a crash. */
    void stopServer(String mode) {
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", mode, "-w",
                "stop"), true);
    }

    @Override
    public void close() {
        stopQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // shutting down already
        }
    }

    private void stopQuietly() {
        try {
            stopServer("immediate");
        } catch (RuntimeException e) {
            // not running
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

    private void run(List<String> command, boolean asPostgres) {
        List<String> full = new ArrayList<>();
        if (asPostgres && asRoot) {
            full.addAll(List.of("runuser", "-u", USER, "--"));
        }
        full.addAll(command);
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectOutput(dir.resolve("commands.log").toFile().exists()
                            ? ProcessBuilder.Redirect.appendTo(dir.resolve("commands.log").toFile())
                            : ProcessBuilder.Redirect.to(dir.resolve("commands.log").toFile()))
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("failed (" + p.exitValue() + "): " + command + "\n"
                        + Files.readString(dir.resolve("commands.log")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command, e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
