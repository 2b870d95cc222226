package dev.locking.postgres;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCallException;
import dev.locking.spi.support.BackendCalls;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * The provider's way to PostgreSQL: the connection pool (HikariCP, made on first use) or an application's own
 * {@link DataSource}, the schema check before the first statement, every call bounded through
 * {@link BackendCalls}, and what the driver's failures mean for the SPI.
 *
 * <p>Bounds: getting a pooled connection waits at most {@code connectTimeout}; a statement runs at most
 * {@code timeout} on the server ({@code statement_timeout}; {@code setQueryTimeout} on an application's
 * DataSource), and the socket gives up {@code timeout} plus two seconds after the server went silent.
 *
 * <p>Failures: a connection that could not be had, or broke, or a server shutting down is
 * {@link ProviderUnavailableException} (a {@link BackendCallException} that may have taken effect when it broke
 * during a statement that changes locks); anything else the server refused is a {@link LockingException} with
 * the server's SQLSTATE and message. No message ever carries the password or the URL's parameters.
 *
 * <p>Concurrency: safe for concurrent use. The pool is made once under {@code lock}; the schema check runs once
 * under it too (again after a failure).
 */
final class Database implements AutoCloseable {
    /** Work done with one connection. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Sets a statement's parameters. */
    @FunctionalInterface
    interface Bind {
        void bind(Connection c, PreparedStatement ps) throws SQLException;
    }

    /** Reads a statement's result (calling {@link ResultSet#next()} itself). */
    @FunctionalInterface
    interface Read<T> {
        T read(ResultSet rs) throws SQLException;
    }

    /** A conflict the acquire function met after it had written (it rolled back): the caller tries again. */
    static final class RaceLost extends LockingException {
        private static final long serialVersionUID = 1L;
        final int position;

        RaceLost(int position) {
            super("conflict at " + position);
            this.position = position;
        }
    }

    /** How the acquire function's LK409 names the conflicting key's position. */
    private static final Pattern CONFLICT_AT = Pattern.compile("conflict at (\\d{1,9})");

    private final String providerId;
    private final PostgresSettings settings;
    private final Schema schema;
    private final @Nullable DataSource borrowed;
    private final BackendCalls calls;
    private final Object lock = new Object();

    @GuardedBy("lock")
    private @Nullable HikariDataSource pool;

    @GuardedBy("lock")
    private boolean closed;

    private volatile boolean schemaReady;

    Database(String providerId, PostgresSettings settings, Schema schema, @Nullable DataSource borrowed) {
        this.providerId = providerId;
        this.settings = settings;
        this.schema = schema;
        this.borrowed = borrowed;
        Duration bound = settings.timeout().plus(borrowed == null ? settings.connectTimeout() : settings.timeout())
                .plusSeconds(2);
        this.calls = new BackendCalls(providerId, "PostgreSQL", bound, this::translate);
    }

    /**
     * Runs work on a connection of the pool, after the schema check, bounded and translated. An interrupt can only
     * end the wait for a pooled connection, before anything is sent (the driver's socket reads ignore interrupts),
     * so every call may be repeated.
     */
    <T> T call(String operation, boolean changes, Work<T> work) {
        return calls.call(() -> {
            DataSource source = source();
            boolean[] sent = new boolean[1];
            try (Connection c = source.getConnection()) {
                if (borrowed != null && !c.getAutoCommit()) {
                    c.setAutoCommit(true); // each statement is its own transaction; the pool resets this on return
                }
                if (!schemaReady) {
                    readySchema(c);
                }
                sent[0] = true;
                return work.run(c);
            } catch (SQLException e) {
                if (sent[0] && changes && brokenConnection(e)) {
                    throw new BackendCallException(providerId + ": the connection to " + settings.description()
                            + " broke during " + operation + " (" + reason(e) + "); it may have taken effect",
                            operation, true, safeCause(e));
                }
                throw e;
            }
        }, operation, true);
    }

    /** One query through {@link #call}: prepare, bind, execute, read. */
    <T> T query(String operation, boolean changes, String sql, Bind bind, Read<T> read) {
        return call(operation, changes, c -> {
            try (PreparedStatement ps = prepare(c, sql)) {
                bind.bind(c, ps);
                try (ResultSet rs = ps.executeQuery()) {
                    return read.read(rs);
                }
            }
        });
    }

    /** Keys as a {@code bytea[]} parameter. */
    static Array keys(Connection c, List<String> keys) throws SQLException {
        return c.createArrayOf("bytea", Codec.utf8(keys));
    }

    /** A statement bounded by the timeout even on an application's DataSource (the pool sets statement_timeout). */
    PreparedStatement prepare(Connection c, String sql) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        if (borrowed != null) {
            ps.setQueryTimeout((int) seconds(settings.timeout()));
        }
        return ps;
    }

    /** A connection outside the pool, for LISTEN: the application's DataSource gives one of its own. */
    Connection dedicatedConnection() throws SQLException {
        if (borrowed != null) {
            return borrowed.getConnection();
        }
        return DriverManager.getConnection(settings.url(), driverProperties());
    }

    boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    @Override
    public void close() {
        HikariDataSource toClose;
        synchronized (lock) {
            closed = true;
            toClose = pool;
            pool = null;
        }
        calls.close();
        if (toClose != null) {
            toClose.close();
        }
    }

    private DataSource source() {
        if (borrowed != null) {
            return borrowed;
        }
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException(providerId + " is closed");
            }
            if (pool == null) {
                HikariConfig config = new HikariConfig();
                config.setPoolName("locking-" + providerId);
                config.setJdbcUrl(settings.url());
                config.setDataSourceProperties(driverProperties());
                config.setMaximumPoolSize(settings.poolSize());
                config.setMinimumIdle(Math.min(2, settings.poolSize()));
                config.setConnectionTimeout(Math.max(250, settings.connectTimeout().toMillis()));
                config.setValidationTimeout(Math.max(250, Math.min(settings.connectTimeout().toMillis(), 5000)));
                config.setInitializationFailTimeout(-1); // connect on first use, never when the pool is made
                config.setAutoCommit(true);
                config.setConnectionInitSql("SET statement_timeout = " + settings.timeout().toMillis());
                pool = new HikariDataSource(config);
            }
            return pool;
        }
    }

    private Properties driverProperties() {
        Properties p = new Properties();
        if (settings.user() != null) {
            p.setProperty("user", settings.user());
        }
        if (settings.password() != null) {
            p.setProperty("password", settings.password());
        }
        p.setProperty("connectTimeout", Long.toString(seconds(settings.connectTimeout())));
        p.setProperty("loginTimeout", Long.toString(seconds(settings.connectTimeout())));
        p.setProperty("socketTimeout", Long.toString(seconds(settings.timeout()) + 2));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", "locking " + providerId);
        return p;
    }

    /** Whole seconds, rounded up, at least one: the driver's timeouts take seconds. */
    private static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }

    private void readySchema(Connection c) throws SQLException {
        synchronized (lock) {
            if (!schemaReady) {
                schema.ensure(c, settings.createTable(), providerId);
                schemaReady = true;
            }
        }
    }

    /** The failures of the driver and the pool, as the SPI reports them (see the class documentation). */
    private RuntimeException translate(Throwable failure, String operation) {
        SQLException sql = null;
        for (Throwable e = failure; e != null && sql == null; e = e.getCause() == e ? null : e.getCause()) {
            if (e instanceof SQLException s) {
                sql = s;
            }
        }
        String state = sql == null ? null : sql.getSQLState();
        if (sql != null && "LK409".equals(state)) {
            Matcher m = CONFLICT_AT.matcher(String.valueOf(sql.getMessage()));
            if (m.find()) {
                return new RaceLost(Integer.parseInt(m.group(1)));
            }
        }
        if (sql == null || brokenConnection(sql)) {
            return new ProviderUnavailableException(providerId + ": " + settings.description() + " did not complete "
                    + operation + " (" + reason(failure) + ")", safeCause(failure));
        }
        if (state != null && state.startsWith("28")) {
            return new ProviderUnavailableException(providerId + ": " + settings.description() + " refused the login ("
                    + reason(sql) + "; check user and password)", safeCause(sql));
        }
        if ("42501".equals(state)) {
            return new LockingException(providerId + ": permission denied for " + operation + " on " + schema.locks
                    + " (" + reason(sql) + "; the README lists the privileges this provider needs)", safeCause(sql));
        }
        return new LockingException(providerId + ": " + settings.description() + " refused " + operation + " ("
                + reason(sql) + ")", safeCause(sql));
    }

    private static boolean brokenConnection(SQLException e) {
        String state = e.getSQLState();
        return e instanceof SQLTransientConnectionException || state == null || state.startsWith("08")
                || state.startsWith("57P") || state.equals("53300") || state.equals("57014");
    }

    /** The SQLSTATE and the server's first line, without the password if it ever appeared there. */
    private String reason(Throwable e) {
        String state = e instanceof SQLException s ? s.getSQLState() : null;
        String message = e.getMessage();
        String line = message == null ? e.getClass().getSimpleName() : message.lines().findFirst().orElse("");
        return (state == null ? "" : "SQLSTATE " + state + ": ") + scrub(line);
    }

    /** The failure as a cause, unless some message in it shows the password; then none. */
    private @Nullable Throwable safeCause(Throwable failure) {
        String password = settings.password();
        if (password == null || password.isEmpty()) {
            return failure;
        }
        for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
            String message = e.getMessage();
            if (message != null && message.contains(password)) {
                return null;
            }
        }
        return failure;
    }

    private String scrub(String s) {
        String password = settings.password();
        return password == null || password.isEmpty() ? s : s.replace(password, "****");
    }
}
