package dev.locking.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.locking.api.LockingException;
import dev.locking.spi.support.jdbc.SqlCalls;
import dev.locking.spi.support.jdbc.SqlFailures;
import dev.locking.spi.support.jdbc.SqlValues;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;

/**
 * What {@code lp_postgres} adds to the toolkit's {@link SqlCalls} and {@link SqlFailures}: the HikariCP pool's and
 * pgjdbc's settings, the connection kept for {@code LISTEN}, and what PostgreSQL's own SQLSTATEs mean.
 *
 * <p>Bounds: getting a pooled connection waits at most {@code connectTimeout}; a statement runs at most
 * {@code timeout} on the server ({@code statement_timeout}; {@code setQueryTimeout} on an application's
 * DataSource), and the socket gives up {@code timeout} plus two seconds after the server went silent.
 *
 * <p>Failures, besides the toolkit's rules: a server shutting down or restarting (class {@code 57P}), too many
 * connections ({@code 53300}) and a cancelled statement ({@code 57014}) mean unavailable; the acquire function's
 * {@code LK409} (a conflict it met after it wrote, rolled back) is {@link RaceLost}, and the caller tries again.
 *
 * <p>Concurrency: stateless; what it makes is safe for concurrent use.
 */
final class Database {
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

    private Database() {}

    /** The provider's statements: on a pool made on first use, or on the application's DataSource. */
    static SqlCalls open(String providerId, PostgresSettings settings, Schema schema, @Nullable DataSource borrowed) {
        SqlFailures failures = new SqlFailures(providerId, settings.description(), settings.password(),
                "table " + schema.locks, Database::raceLost, Database::unavailable);
        SqlCalls.Builder b = SqlCalls.builder(providerId, failures).backend("PostgreSQL")
                .statementTimeout(settings.timeout())
                .firstUse(c -> schema.ensure(c, settings.createTable(), providerId));
        if (borrowed != null) {
            // No statement_timeout on the application's sessions: each statement gets setQueryTimeout.
            return b.dataSource(borrowed).connectTimeout(settings.timeout()).queryTimeout(true).build();
        }
        return b.pool(() -> pool(providerId, settings)).connectTimeout(settings.connectTimeout()).build();
    }

    /** A connection outside the pool, for LISTEN: the application's DataSource gives one of its own. */
    static Connection dedicated(String providerId, PostgresSettings settings, @Nullable DataSource borrowed)
            throws SQLException {
        if (borrowed != null) {
            return borrowed.getConnection();
        }
        return DriverManager.getConnection(settings.url(), driverProperties(providerId, settings));
    }

    /** Keys as a {@code bytea[]} parameter. */
    static Array keys(Connection c, List<String> keys) throws SQLException {
        return c.createArrayOf("bytea", SqlValues.bytes(keys));
    }

    private static HikariDataSource pool(String providerId, PostgresSettings settings) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("locking-" + providerId);
        config.setJdbcUrl(settings.url());
        config.setDataSourceProperties(driverProperties(providerId, settings));
        config.setMaximumPoolSize(settings.poolSize());
        config.setMinimumIdle(Math.min(2, settings.poolSize()));
        config.setConnectionTimeout(Math.max(250, settings.connectTimeout().toMillis()));
        config.setValidationTimeout(Math.max(250, Math.min(settings.connectTimeout().toMillis(), 5000)));
        config.setInitializationFailTimeout(-1); // connect on first use, never when the pool is made
        config.setAutoCommit(true);
        config.setConnectionInitSql("SET statement_timeout = " + settings.timeout().toMillis());
        return new HikariDataSource(config);
    }

    private static Properties driverProperties(String providerId, PostgresSettings settings) {
        Properties p = new Properties();
        if (settings.user() != null) {
            p.setProperty("user", settings.user());
        }
        if (settings.password() != null) {
            p.setProperty("password", settings.password());
        }
        p.setProperty("connectTimeout", Long.toString(SqlCalls.seconds(settings.connectTimeout())));
        p.setProperty("loginTimeout", Long.toString(SqlCalls.seconds(settings.connectTimeout())));
        p.setProperty("socketTimeout", Long.toString(SqlCalls.seconds(settings.timeout()) + 2));
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", "locking " + providerId);
        return p;
    }

    private static @Nullable RuntimeException raceLost(SQLException e, String operation) {
        Matcher m = CONFLICT_AT.matcher(String.valueOf(e.getMessage()));
        return "LK409".equals(e.getSQLState()) && m.find() ? new RaceLost(Integer.parseInt(m.group(1))) : null;
    }

    /** PostgreSQL's own ways of saying that the server cannot serve now. */
    private static boolean unavailable(SQLException e) {
        String state = String.valueOf(e.getSQLState());
        return state.startsWith("57P") || state.equals("53300") || state.equals("57014");
    }
}
