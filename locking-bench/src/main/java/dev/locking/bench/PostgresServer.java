package dev.locking.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.locking.spi.LockingProviderFactory;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * The PostgreSQL server of a bench run: the one {@code POSTGRES_URL} names (a pgjdbc URL, logging in as
 * {@code POSTGRES_USER} with {@code POSTGRES_PASSWORD}), or else a throwaway one started with the
 * {@code initdb}/{@code pg_ctl} of Debian's {@code postgresql} package on a free port, with a data directory in a
 * temporary directory, stopped and deleted on {@link #close()}. {@code initdb} refuses to run as root, so as root
 * the binaries run as the {@code postgres} user ({@code runuser}), which owns that directory. The throwaway
 * server keeps PostgreSQL's default settings (durable commits included) except for more connections, plus what
 * {@value #OPTIONS_PROPERTY} adds.
 *
 * <p>Used by one thread, the bench's (a shutdown hook only stops the server).
 */
final class PostgresServer implements AutoCloseable {
    static final String URL_ENV = "POSTGRES_URL";
    static final String USER_ENV = "POSTGRES_USER";
    static final String PASSWORD_ENV = "POSTGRES_PASSWORD";
    /** The role a throwaway server is made with, and the OS user that runs it. */
    static final String POSTGRES = "postgres";
    /** The provider type of {@code lp_postgres}. */
    static final String PROVIDER_TYPE = "postgres";
    /** The workers of W7/W8 and this JVM each have pools; the default of 100 could run short. */
    private static final int MAX_CONNECTIONS = 300;
    /**
     * Extra server settings for a throwaway server, for experiments:
     * {@code -Dbench.postgresOptions="-c synchronous_commit=off"} (what commits cost, and what they cost each
     * contender, is then visible by comparison).
     */
    static final String OPTIONS_PROPERTY = "bench.postgresOptions";

    /** Where and as whom to connect; the password is never printed. */
    record Login(String url, @Nullable String user, @Nullable String password) {
        @Override
        public String toString() {
            return url + (user == null ? "" : " as " + user);
        }
    }

    private final Login login;
    private final @Nullable Path bin;
    private final @Nullable Path dir;
    private final @Nullable Thread hook;

    private PostgresServer(Login login, @Nullable Path bin, @Nullable Path dir) {
        this.login = login;
        this.bin = bin;
        this.dir = dir;
        this.hook = dir == null ? null : new Thread(() -> stop("immediate"), "stop-postgres");
        if (hook != null) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
    }

    /**
     * The server of {@code POSTGRES_URL}, or a throwaway one.
     *
     * @throws IllegalStateException if neither is there, or the throwaway server does not start; the message
     *                               says what to set or install
     */
    static PostgresServer start() {
        Login given = fromEnvironment();
        if (given != null) {
            return new PostgresServer(given, null, null);
        }
        Path bin = binaries();
        if (bin == null) {
            throw new IllegalStateException("--backends postgres needs a PostgreSQL server: set " + URL_ENV
                    + "=jdbc:postgresql://host:port/database (with " + USER_ENV + " and " + PASSWORD_ENV
                    + "), or install Debian's postgresql package (initdb and pg_ctl under /usr/lib/postgresql/*/bin)"
                    + " so the bench can start a throwaway server");
        }
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                return startThrowaway(bin);
            } catch (IllegalStateException e) {
                last = e; // most likely someone took the port in between: try another
            }
        }
        throw last;
    }

    /** The login {@code POSTGRES_URL} gives, or null when it is not set. */
    static @Nullable Login fromEnvironment() {
        String url = System.getenv(URL_ENV);
        if (url == null || url.isBlank()) {
            return null;
        }
        return new Login(url.trim(), blankToNull(System.getenv(USER_ENV)), blankToNull(System.getenv(PASSWORD_ENV)));
    }

    /**
     * How a worker JVM logs in to the server at {@code url}: as {@code POSTGRES_URL}'s user when that is the
     * server (the workers inherit the bench's environment), else as the throwaway server's role.
     */
    static Login loginFor(String url) {
        Login given = fromEnvironment();
        return given != null && given.url().equals(url) ? given : new Login(url, POSTGRES, null);
    }

    Login login() {
        return login;
    }

    /** A HikariCP pool of at most {@code size} connections to the server. */
    static HikariDataSource pool(Login login, int size, String name) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(login.url());
        if (login.user() != null) {
            config.setUsername(login.user());
        }
        if (login.password() != null) {
            config.setPassword(login.password());
        }
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        config.setPoolName(name);
        config.setConnectionTimeout(30_000);
        return new HikariDataSource(config);
    }

    /** Whether a jar on the classpath offers provider type {@code postgres} ({@code lp_postgres}). */
    static boolean providerOnClasspath() {
        return ServiceLoader.load(LockingProviderFactory.class, PostgresServer.class.getClassLoader()).stream()
                .anyMatch(p -> PROVIDER_TYPE.equals(p.get().type()));
    }

    /** The directory with {@code initdb} and {@code pg_ctl} (the newest Debian version first), or null. */
    static @Nullable Path binaries() {
        List<Path> candidates = new ArrayList<>();
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.sorted(Comparator.comparing((Path v) -> versionNumber(v.getFileName().toString())).reversed())
                        .forEach(v -> candidates.add(v.resolve("bin")));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        String path = System.getenv("PATH");
        for (String d : path == null ? new String[0] : path.split(File.pathSeparator, -1)) {
            if (!d.isEmpty()) {
                candidates.add(Path.of(d));
            }
        }
        return candidates.stream().filter(c -> Files.isExecutable(c.resolve("initdb"))
                && Files.isExecutable(c.resolve("pg_ctl"))).findFirst().orElse(null);
    }

    private static int versionNumber(String name) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The server's version as its binaries tell it, "(POSTGRES_URL)" for a given server, or "?". */
    static String version() {
        if (fromEnvironment() != null) {
            return "(" + URL_ENV + ")";
        }
        Path bin = binaries();
        if (bin == null) {
            return "?";
        }
        try {
            Process p = new ProcessBuilder(bin.resolve("pg_ctl").toString(), "--version").redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out.replaceFirst("^pg_ctl \\(PostgreSQL\\) ", "");
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    private static PostgresServer startThrowaway(Path bin) {
        Path dir;
        int port;
        try {
            dir = Files.createTempDirectory("locking-bench-postgres-");
            port = HazelcastMemberMain.freePort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PostgresServer server = new PostgresServer(new Login("jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                POSTGRES, null), bin, dir);
        try {
            if (asRoot()) {
                run(dir, List.of("chown", POSTGRES, dir.toString()), false);
            }
            run(dir, List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", POSTGRES,
                    "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"), true);
            run(dir, List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
                    dir.resolve("postgres.log").toString(), "-w", "-t", "60", "-o", "-p " + port + " -k " + dir
                            + " -c listen_addresses=127.0.0.1 -c max_connections=" + MAX_CONNECTIONS + " "
                            + System.getProperty(OPTIONS_PROPERTY, "").trim(), "start"), true);
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private static boolean asRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Runs a command (as the {@code postgres} user when we are root and {@code asPostgres}), output to a log. */
    private static void run(Path dir, List<String> command, boolean asPostgres) {
        List<String> full = new ArrayList<>();
        if (asPostgres && asRoot()) {
            full.addAll(List.of("runuser", "-u", POSTGRES, "--"));
        }
        full.addAll(command);
        Path log = dir.resolve("commands.log");
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + String.join(" ", command) + "; see " + log);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("failed with exit status " + p.exitValue() + ": "
                        + String.join(" ", command) + "\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted: " + command.get(0), e);
        }
    }

    private void stop(String mode) {
        Path d = dir;
        Path b = bin;
        if (d == null || b == null || !Files.exists(d.resolve("data").resolve("postmaster.pid"))) {
            return;
        }
        try {
            run(d, List.of(b.resolve("pg_ctl").toString(), "-D", d.resolve("data").toString(), "-m", mode, "-w",
                    "stop"), true);
        } catch (RuntimeException e) {
            // best effort: the server may be gone already
        }
    }

    /** Stops a throwaway server and deletes its directory; a given server is left as it is. */
    @Override
    public void close() {
        Path d = dir;
        if (d == null) {
            return;
        }
        stop("fast");
        try (Stream<Path> files = Files.walk(d)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; best effort
        }
        Thread h = hook;
        if (h != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(h);
            } catch (IllegalStateException e) {
                // already shutting down
            }
        }
    }

    private static @Nullable String blankToNull(@Nullable String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
