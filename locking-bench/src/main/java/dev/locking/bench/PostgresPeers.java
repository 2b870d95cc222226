package dev.locking.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.springframework.integration.jdbc.lock.DefaultLockRepository;
import org.springframework.integration.jdbc.lock.JdbcLockRegistry;
import org.springframework.integration.support.locks.DistributedLock;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;

/**
 * What a Java team would use instead of {@code lp_postgres}, on the same server and through the same pool:
 * Spring Integration's {@code JdbcLockRegistry} with its default repository, and two floors, the fewest round
 * trips a lock needs: session advisory locks ({@code pg_try_advisory_lock}/{@code pg_advisory_unlock}; keys hashed
 * to 64 bits, as advisory locks require), and a table lock ({@code INSERT ... ON CONFLICT DO NOTHING}, then
 * {@code DELETE}).
 *
 * <p>Concurrency: each peer is called by the workload's threads at once; each call borrows its own connection
 * from the pool (thread-safe), and {@code JdbcLockRegistry} is thread-safe; owners are per thread.
 */
final class PostgresPeers {
    private PostgresPeers() {}

    static final String JDBC_LOCK_REGISTRY = "JdbcLockRegistry";
    static final String ADVISORY_FLOOR = "advisory lock floor";
    static final String TABLE_FLOOR = "INSERT ON CONFLICT + DELETE";
    /** The table floor's table. */
    static final String FLOOR_TABLE = "locking_bench_floor";

    private static final Duration LEASE = OursContender.LEASE;

    /**
     * Creates what the peers need if missing: {@code INT_LOCK}, exactly as Spring Integration's
     * {@code schema-postgresql.sql} declares it, and the table floor's table. Called once, by the bench's JVM,
     * before any worker starts.
     */
    static void createTables(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("SELECT to_regclass('int_lock') IS NULL")) {
                r.next();
                if (r.getBoolean(1)) {
                    s.execute(springLockTableDdl());
                }
            }
            s.execute("CREATE TABLE IF NOT EXISTS " + FLOOR_TABLE
                    + " (key text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)");
        }
    }

    /** The {@code CREATE TABLE INT_LOCK} statement of the schema script Spring Integration ships for PostgreSQL. */
    static String springLockTableDdl() {
        String resource = "org/springframework/integration/jdbc/schema-postgresql.sql";
        try (InputStream in = DefaultLockRepository.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the classpath");
            }
            String script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int from = script.indexOf("CREATE TABLE INT_LOCK");
            int to = from < 0 ? -1 : script.indexOf(';', from);
            if (to < 0) {
                throw new IllegalStateException("no CREATE TABLE INT_LOCK statement in " + resource);
            }
            return script.substring(from, to);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code JdbcLockRegistry} on a {@code DefaultLockRepository} (its default queries, region and 100 ms polling;
     * a transaction manager on the same pool, as a Spring application has one): {@code lock(30 s)}/{@code unlock}
     * for one key; {@code tryLock(wait, 30 s)} for sections, several keys one after another in the order given.
     */
    static Contender jdbcLockRegistry(DataSource ds) {
        DefaultLockRepository repository = new DefaultLockRepository(ds);
        repository.setTransactionManager(new DataSourceTransactionManager(ds));
        repository.afterPropertiesSet();
        repository.afterSingletonsInstantiated();
        repository.start();
        JdbcLockRegistry registry = new JdbcLockRegistry(repository);
        return new Peers.Peer(JDBC_LOCK_REGISTRY) {
            @Override
            public String multiName() {
                return JDBC_LOCK_REGISTRY + " per key";
            }

            @Override
            public void cycle(String key) {
                DistributedLock lock = registry.obtain(key);
                lock.lock(LEASE);
                try {
                    // nothing: the cycle is the lock and the unlock
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                Peers.perKey(keys, (key, wait) -> {
                    DistributedLock lock = registry.obtain(key);
                    return lock.tryLock(Duration.ofMillis(wait), LEASE) ? lock::unlock : null;
                }, section, giveUpNanos);
            }
        };
    }

    /**
     * Session advisory locks through the pool, each call on one borrowed connection: {@code pg_try_advisory_lock}
     * then {@code pg_advisory_unlock} for one key (two round trips); for sections the waiting
     * {@code pg_advisory_lock} (all keys in one statement, in the order given) bounded by the give-up time through
     * the statement's timeout, and the unlock in one statement. A failed wait unlocks everything the session holds
     * before the connection goes back to the pool.
     */
    static Contender advisoryFloor(DataSource ds) {
        return new Peers.Peer(ADVISORY_FLOOR) {
            @Override
            public void cycle(String key) throws SQLException {
                long id = advisoryKey(key);
                try (Connection c = ds.getConnection()) {
                    if (!bool(c, "SELECT pg_try_advisory_lock(?)", id)) {
                        throw new IllegalStateException("pg_try_advisory_lock found \"" + key + "\" taken");
                    }
                    if (!bool(c, "SELECT pg_advisory_unlock(?)", id)) {
                        throw new IllegalStateException("pg_advisory_unlock did not hold \"" + key + "\"");
                    }
                }
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                Long[] ids = keys.stream().map(PostgresPeers::advisoryKey).toArray(Long[]::new);
                try (Connection c = ds.getConnection()) {
                    boolean locked = false;
                    try {
                        try (PreparedStatement p = c.prepareStatement(ids.length == 1
                                ? "SELECT pg_advisory_lock(?)"
                                : "SELECT count(pg_advisory_lock(k)) FROM unnest(?::bigint[]) AS k")) {
                            bind(c, p, ids);
                            p.setQueryTimeout((int) Math.max(1, TimeUnit.MILLISECONDS.toSeconds(
                                    Peers.remainingMillis(giveUpNanos) + 999)));
                            p.executeQuery().close();
                        } catch (SQLException e) {
                            if ("57014".equals(e.getSQLState())) { // query_canceled: the timeout
                                throw new TimeoutException("gave up waiting for " + keys);
                            }
                            throw e;
                        }
                        locked = true;
                        section.run();
                    } finally {
                        String unlock = !locked ? "SELECT pg_advisory_unlock_all()" : ids.length == 1
                                ? "SELECT pg_advisory_unlock(?)"
                                : "SELECT count(pg_advisory_unlock(k)) FROM unnest(?::bigint[]) AS k";
                        try (PreparedStatement p = c.prepareStatement(unlock)) {
                            if (locked) {
                                bind(c, p, ids);
                            }
                            p.executeQuery().close();
                        }
                    }
                }
            }
        };
    }

    /**
     * A lock as a row, in the fewest round trips: {@code INSERT ... ON CONFLICT DO NOTHING} (one row inserted:
     * taken) and an owner-checked {@code DELETE}. It cannot wait, so it is measured in W1 and W2 only.
     */
    static Contender tableFloor(DataSource ds) {
        ThreadLocal<String> owners = ThreadLocal.withInitial(() -> "floor-" + Thread.currentThread().getName());
        String insert = "INSERT INTO " + FLOOR_TABLE + " (key, owner, expires_at) VALUES (?, ?, now() + ?::interval)"
                + " ON CONFLICT DO NOTHING";
        String delete = "DELETE FROM " + FLOOR_TABLE + " WHERE key = ? AND owner = ?";
        String lease = LEASE.toMillis() + " milliseconds";
        return new Peers.Peer(TABLE_FLOOR) {
            @Override
            public boolean waits() {
                return false;
            }

            @Override
            public void cycle(String key) throws SQLException {
                String owner = owners.get();
                try (Connection c = ds.getConnection()) {
                    try (PreparedStatement p = c.prepareStatement(insert)) {
                        p.setString(1, key);
                        p.setString(2, owner);
                        p.setString(3, lease);
                        if (p.executeUpdate() != 1) {
                            throw new IllegalStateException("INSERT ON CONFLICT found \"" + key + "\" taken");
                        }
                    }
                    try (PreparedStatement p = c.prepareStatement(delete)) {
                        p.setString(1, key);
                        p.setString(2, owner);
                        if (p.executeUpdate() != 1) {
                            throw new IllegalStateException("DELETE did not delete \"" + key + "\"");
                        }
                    }
                }
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) {
                throw new UnsupportedOperationException("the table floor has no way to wait");
            }
        };
    }

    /** A key's 64-bit advisory lock id: FNV-1a over its UTF-8 bytes (collisions possible, as with any hash). */
    static long advisoryKey(String key) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    private static boolean bool(Connection c, String sql, long id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setLong(1, id);
            try (ResultSet r = p.executeQuery()) {
                return r.next() && r.getBoolean(1);
            }
        }
    }

    private static void bind(Connection c, PreparedStatement p, Long[] ids) throws SQLException {
        if (ids.length == 1) {
            p.setLong(1, ids[0]);
        } else {
            p.setArray(1, c.createArrayOf("bigint", ids));
        }
    }
}
