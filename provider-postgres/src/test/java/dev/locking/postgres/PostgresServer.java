package dev.locking.postgres;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The PostgreSQL server the tests share, found in this order: the one named by {@code POSTGRES_URL} (a pgjdbc
 * URL; {@code POSTGRES_USER} and {@code POSTGRES_PASSWORD} give the login); a container when Docker is available
 * (Testcontainers); else one started from the {@code initdb}/{@code pg_ctl} binaries on a free port for the whole
 * run ({@link PostgresProcess}). With {@code CI=true}, finding none fails the run; otherwise the tests are skipped.
 *
 * <pre>{@code
 * @RegisterExtension static final PostgresServer PG = PostgresServer.shared();
 * }</pre>
 *
 * <p>Public, and in this module's test jar, so that other modules' tests (the Spring Boot starter's) use the same
 * server.
 */
public final class PostgresServer implements BeforeAllCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(PostgresServer.class);

    private volatile @Nullable Shared shared;

    /**
     * The extension; every test class of a run shares one server.
     *
     * @return a new extension instance
     */
    public static PostgresServer shared() {
        return new PostgresServer();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        shared = context.getRoot().getStore(NAMESPACE).computeIfAbsent("server", k -> Shared.resolve(), Shared.class);
    }

    Shared get() {
        Shared s = shared;
        if (s == null) {
            throw new IllegalStateException("PostgresServer is used before its beforeAll ran");
        }
        return s;
    }

    /** The process this run started, or null when the server came from elsewhere. */
    @Nullable PostgresProcess process() {
        return get().process;
    }

    /**
     * The server's pgjdbc URL.
     *
     * @return the URL
     */
    public String url() {
        return get().url;
    }

    /**
     * The options that reach this server, plus the given ones (later ones win).
     *
     * @param more more options, as name, value, name, value...
     * @return the options of a provider on this server
     */
    public Map<String, String> options(String... more) {
        Shared s = get();
        Map<String, String> options = new LinkedHashMap<>();
        options.put("url", s.url);
        if (s.user != null) {
            options.put("user", s.user);
        }
        if (s.password != null) {
            options.put("password", s.password);
        }
        for (int i = 0; i + 1 < more.length; i += 2) {
            options.put(more[i], more[i + 1]);
        }
        return options;
    }

    LockingProvider provider(String id, String... moreOptions) {
        return new PostgresProviderFactory().create(new TestConfig(id, options(moreOptions)));
    }

    /** A plain connection as the test's superuser, for looking at and changing the tables behind a provider. */
    Connection admin() throws SQLException {
        Shared s = get();
        Properties p = new Properties();
        if (s.user != null) {
            p.setProperty("user", s.user);
        }
        if (s.password != null) {
            p.setProperty("password", s.password);
        }
        return DriverManager.getConnection(s.url, p);
    }

    /** Drops a provider's table, its queue and its functions from the public schema (a shared server keeps nothing). */
    void drop(String table) throws SQLException {
        try (Connection c = admin(); java.sql.Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + table + ", " + table + "_queue CASCADE");
            st.execute("DO $$ DECLARE f regprocedure; BEGIN FOR f IN SELECT p.oid::regprocedure FROM pg_proc p"
                    + " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"
                    + " AND p.proname LIKE '" + table + "\\_%' LOOP EXECUTE 'DROP FUNCTION ' || f; END LOOP; END $$");
        }
    }

    /** What the test run shares; closed (the server stopped) when the run ends. */
    static final class Shared implements AutoCloseable {
        final String url;
        final @Nullable String user;
        final @Nullable String password;
        final @Nullable PostgresProcess process;
        final @Nullable AutoCloseable container;

        private Shared(String url, @Nullable String user, @Nullable String password, @Nullable PostgresProcess process,
                @Nullable AutoCloseable container) {
            this.url = url;
            this.user = user;
            this.password = password;
            this.process = process;
            this.container = container;
        }

        static Shared resolve() {
            String url = System.getenv("POSTGRES_URL");
            if (url != null && !url.isBlank()) {
                return new Shared(url, System.getenv("POSTGRES_USER"), System.getenv("POSTGRES_PASSWORD"), null, null);
            }
            if (dockerAvailable()) {
                PostgreSQLContainer container = new PostgreSQLContainer("postgres:17-alpine")
                        .withCommand("postgres", "-c", "max_connections=300", "-c", "fsync=off");
                container.start();
                return new Shared(container.getJdbcUrl(), container.getUsername(), container.getPassword(), null,
                        container);
            }
            Path bin = PostgresProcess.binaries();
            if (bin == null) {
                String why = "no PostgreSQL: set POSTGRES_URL, start Docker, or install the postgresql package";
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    throw new IllegalStateException(why);
                }
                Assumptions.abort(why);
            }
            PostgresProcess process = PostgresProcess.start(bin);
            return new Shared(process.url(), PostgresProcess.USER, PostgresProcess.PASSWORD, process, null);
        }

        private static boolean dockerAvailable() {
            try {
                return DockerClientFactory.instance().isDockerAvailable();
            } catch (RuntimeException | LinkageError e) {
                return false;
            }
        }

        @Override
        public void close() {
            if (process != null) {
                process.close();
            }
            if (container != null) {
                try {
                    container.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }
}
