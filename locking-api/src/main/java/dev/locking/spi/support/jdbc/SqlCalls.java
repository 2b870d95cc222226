package dev.locking.spi.support.jdbc;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.locking.spi.support.BackendCalls;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * A JDBC provider's way to its database: each call takes a connection from a {@link DataSource}, runs one
 * statement (or a little work) in autocommit, and gives the connection back, bounded through
 * {@link BackendCalls} and with the driver's failures translated by {@link SqlFailures}.
 *
 * <ul>
 *   <li>Where connections come from: a pool the provider makes on first use ({@link Builder#pool}, closed by
 *       {@link #close()}), or an application's own {@link DataSource} ({@link Builder#dataSource}, never
 *       closed).</li>
 *   <li>Autocommit: a connection that comes without it is switched to it, so each statement is its own
 *       transaction (a pool restores its connections' setting when they come back).</li>
 *   <li>The first use: {@link Builder#firstUse} runs once, on the first connection, before any statement (a
 *       schema check, say); after a failure, the next call runs it again.</li>
 *   <li>Bounds: a call ends within {@code connectTimeout + statementTimeout} plus two seconds; with
 *       {@link Builder#queryTimeout} each statement made by {@link #prepare} gets
 *       {@link PreparedStatement#setQueryTimeout} (whole seconds, rounded up), for a DataSource whose sessions
 *       have no server-side bound.</li>
 *   <li>Interrupts: a call is {@linkplain BackendCalls#call repeatable} unless the builder says otherwise: an
 *       interrupt can end only the wait for a connection, before anything was sent (common JDBC drivers read
 *       their sockets without answering interrupts), and the call is then made again on a thread nothing
 *       interrupts. Statements sent through a repeatable instance must therefore be safe to send twice, as a
 *       lock table's are when a re-entry by the same owner keeps its token.</li>
 *   <li>Failures: the connection broke after a statement that changes locks was sent: a
 *       {@link dev.locking.spi.support.BackendCallException} that may have taken effect; otherwise as
 *       {@link SqlFailures} says.</li>
 * </ul>
 *
 * <pre>{@code
 * SqlCalls sql = SqlCalls.builder("lp_mysql", failures)
 *         .pool(() -> new HikariDataSource(config))
 *         .connectTimeout(Duration.ofSeconds(5)).statementTimeout(Duration.ofSeconds(5))
 *         .firstUse(c -> schema.ensure(c))
 *         .build();
 * int freed = sql.update("release", "DELETE FROM locks WHERE lock_key = ? AND owner_id = ?", (c, ps) -> {
 *     ps.setBytes(1, SqlValues.bytes(key));
 *     ps.setBytes(2, SqlValues.bytes(owner));
 * });
 * }</pre>
 *
 * <p>Concurrency: safe for concurrent use. The pool is made once under {@code lock}, which also guards
 * {@code closed}; the first-use check runs under it too; {@code ready} is volatile so that later calls skip the
 * lock.
 *
 * @since 0.2.0
 */
public final class SqlCalls implements AutoCloseable {

    /** Work done with one connection. */
    @FunctionalInterface
    public interface Work<T> {
        /**
         * Does the work.
         *
         * @param c the connection, in autocommit
         * @return the result
         * @throws SQLException whatever the driver throws
         */
        T run(Connection c) throws SQLException;
    }

    /** Sets a statement's parameters. */
    @FunctionalInterface
    public interface Bind {
        /**
         * Sets the parameters.
         *
         * @param c  the connection (for {@link Connection#createArrayOf}, say)
         * @param ps the statement
         * @throws SQLException whatever the driver throws
         */
        void bind(Connection c, PreparedStatement ps) throws SQLException;
    }

    /** Reads a statement's result, calling {@link ResultSet#next()} itself. */
    @FunctionalInterface
    public interface Read<T> {
        /**
         * Reads the result.
         *
         * @param rs the result
         * @return what the caller needs of it
         * @throws SQLException whatever the driver throws
         */
        T read(ResultSet rs) throws SQLException;
    }

    /** What runs once on the first connection, before any statement. */
    @FunctionalInterface
    public interface FirstUse {
        /**
         * Checks or prepares the database.
         *
         * @param c a connection, in autocommit
         * @throws SQLException whatever the driver throws; the next call runs the check again
         */
        void run(Connection c) throws SQLException;
    }

    private final String providerId;
    private final SqlFailures failures;
    private final @Nullable DataSource borrowed;
    private final @Nullable Supplier<? extends DataSource> poolMaker;
    private final @Nullable FirstUse firstUse;
    private final int queryTimeoutSeconds;
    private final boolean repeatable;
    private final BackendCalls calls;
    private final Object lock = new Object();

    @GuardedBy("lock")
    private @Nullable DataSource pool;

    @GuardedBy("lock")
    private boolean closed;

    private volatile boolean ready;

    private SqlCalls(Builder b) {
        this.providerId = b.providerId;
        this.failures = b.failures;
        this.borrowed = b.borrowed;
        this.poolMaker = b.poolMaker;
        this.firstUse = b.firstUse;
        this.ready = b.firstUse == null;
        this.queryTimeoutSeconds = b.queryTimeout ? (int) Math.min(Integer.MAX_VALUE, seconds(b.statementTimeout)) : 0;
        this.repeatable = b.repeatable;
        Duration bound = b.connectTimeout.plus(b.statementTimeout).plusSeconds(2);
        this.calls = new BackendCalls(providerId, b.backend, bound, failures);
    }

    /**
     * Starts a builder.
     *
     * @param providerId the provider's id, for messages and thread names
     * @param failures   the translation of the driver's failures
     * @return a builder; give it {@link Builder#pool} or {@link Builder#dataSource}
     */
    public static Builder builder(String providerId, SqlFailures failures) {
        return new Builder(providerId, failures);
    }

    /**
     * Runs work on a connection, after the first-use check, bounded and translated.
     *
     * @param operation names the call in messages, such as {@code tryAcquire}
     * @param changes   whether the work may change locks (a connection broken after it was sent then may have
     *                  taken effect)
     * @param work      the work
     * @param <T>       its result's type
     * @return its result
     * @throws dev.locking.api.LockingException as {@link SqlFailures} translates the driver's failures
     */
    public <T> T call(String operation, boolean changes, Work<T> work) {
        return calls.call(() -> {
            boolean sent = false;
            try (Connection c = source().getConnection()) {
                if (!c.getAutoCommit()) {
                    c.setAutoCommit(true); // each statement is its own transaction; the pool resets this on return
                }
                if (!ready) {
                    runFirstUse(c);
                }
                sent = true;
                return work.run(c);
            } catch (SQLException e) {
                if (sent && changes && failures.isBroken(e)) {
                    throw failures.brokenDuring(e, operation);
                }
                throw e;
            }
        }, operation, repeatable);
    }

    /**
     * One query through {@link #call}: prepare, bind, execute, read.
     *
     * @param operation names the call in messages
     * @param changes   whether the statement may change locks
     * @param sql       the statement
     * @param bind      sets its parameters
     * @param read      reads its result
     * @param <T>       the result's type
     * @return what {@code read} made of the result
     */
    public <T> T query(String operation, boolean changes, String sql, Bind bind, Read<T> read) {
        return call(operation, changes, c -> {
            try (PreparedStatement ps = prepare(c, sql)) {
                bind.bind(c, ps);
                try (ResultSet rs = ps.executeQuery()) {
                    return read.read(rs);
                }
            }
        });
    }

    /**
     * One statement that changes rows, through {@link #call}.
     *
     * @param operation names the call in messages
     * @param sql       the statement
     * @param bind      sets its parameters
     * @return how many rows it changed
     */
    public int update(String operation, String sql, Bind bind) {
        return call(operation, true, c -> {
            try (PreparedStatement ps = prepare(c, sql)) {
                bind.bind(c, ps);
                return ps.executeUpdate();
            }
        });
    }

    /**
     * A statement, bounded by the statement timeout when the builder asked for {@link Builder#queryTimeout}.
     *
     * @param c   the connection
     * @param sql the statement
     * @return the prepared statement
     * @throws SQLException whatever the driver throws
     */
    public PreparedStatement prepare(Connection c, String sql) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        if (queryTimeoutSeconds > 0) {
            ps.setQueryTimeout(queryTimeoutSeconds);
        }
        return ps;
    }

    /**
     * Whether {@link #close()} was called.
     *
     * @return true once closed
     */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /** Stops: closes the pool this object made (never a borrowed DataSource) and the deadline threads. */
    @Override
    public void close() {
        DataSource toClose;
        synchronized (lock) {
            closed = true;
            toClose = pool;
            pool = null;
        }
        calls.close();
        if (toClose instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // closing anyway; the pool's own log says what went wrong
            }
        }
    }

    /**
     * Whole seconds, rounded up, at least one: JDBC's timeouts take seconds.
     *
     * @param d a duration
     * @return its seconds, {@code >= 1}
     */
    public static long seconds(Duration d) {
        return Math.max(1, (Math.min(d.toMillis(), Long.MAX_VALUE - 999) + 999) / 1000);
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
                pool = Objects.requireNonNull(Objects.requireNonNull(poolMaker).get(), "the pool made");
            }
            return pool;
        }
    }

    private void runFirstUse(Connection c) throws SQLException {
        synchronized (lock) {
            if (!ready) {
                Objects.requireNonNull(firstUse).run(c);
                ready = true;
            }
        }
    }

    /** Settings of a {@link SqlCalls}; not for concurrent use. */
    public static final class Builder {
        private final String providerId;
        private final SqlFailures failures;
        private String backend = "the database";
        private @Nullable DataSource borrowed;
        private @Nullable Supplier<? extends DataSource> poolMaker;
        private @Nullable FirstUse firstUse;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration statementTimeout = Duration.ofSeconds(5);
        private boolean queryTimeout;
        private boolean repeatable = true;

        private Builder(String providerId, SqlFailures failures) {
            this.providerId = Objects.requireNonNull(providerId, "providerId");
            this.failures = Objects.requireNonNull(failures, "failures");
        }

        /**
         * The database's name in messages about calls cut off at their bound.
         *
         * @param name such as {@code PostgreSQL}
         * @return this builder
         */
        public Builder backend(String name) {
            this.backend = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Connections from a pool made on the first call (so nothing connects before), closed by
         * {@link SqlCalls#close()} if it is {@link AutoCloseable}.
         *
         * @param maker makes the pool
         * @return this builder
         */
        public Builder pool(Supplier<? extends DataSource> maker) {
            this.poolMaker = Objects.requireNonNull(maker, "maker");
            this.borrowed = null;
            return this;
        }

        /**
         * Connections from an application's DataSource, which is never closed here.
         *
         * @param dataSource the application's DataSource
         * @return this builder
         */
        public Builder dataSource(DataSource dataSource) {
            this.borrowed = Objects.requireNonNull(dataSource, "dataSource");
            this.poolMaker = null;
            return this;
        }

        /**
         * The longest wait for a connection (the pool enforces it; here it is part of a call's bound).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive(timeout, "connectTimeout");
            return this;
        }

        /**
         * The longest a statement runs (the server's or the driver's bound; here part of a call's bound).
         *
         * @param timeout positive
         * @return this builder
         */
        public Builder statementTimeout(Duration timeout) {
            this.statementTimeout = positive(timeout, "statementTimeout");
            return this;
        }

        /**
         * Whether {@link SqlCalls#prepare} sets {@link PreparedStatement#setQueryTimeout} to the statement timeout
         * (for sessions without a server-side bound, such as an application's DataSource).
         *
         * @param on whether to set it
         * @return this builder
         */
        public Builder queryTimeout(boolean on) {
            this.queryTimeout = on;
            return this;
        }

        /**
         * What runs once on the first connection, before any statement.
         *
         * @param check the check
         * @return this builder
         */
        public Builder firstUse(FirstUse check) {
            this.firstUse = Objects.requireNonNull(check, "check");
            return this;
        }

        /**
         * Whether a call cut short by an interrupt may be made again (see the class documentation); default true.
         *
         * @param on false if some statement must not be sent twice
         * @return this builder
         */
        public Builder repeatable(boolean on) {
            this.repeatable = on;
            return this;
        }

        /**
         * Makes the calls object.
         *
         * @return it
         * @throws IllegalStateException if neither a pool nor a DataSource was given
         */
        public SqlCalls build() {
            if (borrowed == null && poolMaker == null) {
                throw new IllegalStateException("give a pool or a DataSource");
            }
            return new SqlCalls(this);
        }

        private static Duration positive(Duration d, String name) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
