package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.locking.api.LockingService;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL backend of the bench: the server ({@code POSTGRES_URL}'s, or a throwaway one from Debian's
 * binaries) answers through the peers' pool, every peer locks and excludes, and a throwaway server is gone after
 * close. Skipped without a server, unless {@code CI=true}.
 */
class PostgresBackendTest {

    private static void requireServer() {
        if (PostgresServer.fromEnvironment() == null && PostgresServer.binaries() == null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("no PostgreSQL: neither POSTGRES_URL nor initdb/pg_ctl, and CI=true");
            }
            Assumptions.abort("no PostgreSQL: neither POSTGRES_URL nor initdb/pg_ctl");
        }
    }

    @Test
    void start_connectsThePeersPool_everyPeerLocks_andCloseStopsAThrowawayServer() throws Exception {
        requireServer();
        URI address;
        try (Backends backends = Backends.start(false, false, false, true)) {
            HikariDataSource pool = backends.postgres;
            assertThat(pool).isNotNull();
            try (Connection c = pool.getConnection(); Statement s = c.createStatement();
                    ResultSet r = s.executeQuery("SELECT to_regclass('int_lock') IS NOT NULL, to_regclass('"
                            + PostgresPeers.FLOOR_TABLE + "') IS NOT NULL")) {
                r.next();
                assertThat(r.getBoolean(1)).as("Spring's INT_LOCK").isTrue();
                assertThat(r.getBoolean(2)).as("the table floor's table").isTrue();
            }
            address = URI.create(backends.address("postgres").substring("jdbc:".length()));
            try (LockingService locking = BenchMain.service(backends)) {
                List<Contender> contenders = BenchMain.postgresContenders(locking, pool, false);
                assertThat(contenders).extracting(Contender::name).contains(PostgresPeers.JDBC_LOCK_REGISTRY,
                        PostgresPeers.ADVISORY_FLOOR, PostgresPeers.TABLE_FLOOR);
                for (Contender c : contenders) {
                    c.cycle("postgres-backend-test-" + c.name());
                    c.cycle("postgres-backend-test-" + c.name()); // released: it can be taken again
                    if (c.waits()) {
                        assertExcludes(c);
                    }
                }
                assertThat(BenchMain.postgresContenders(locking, pool, true)).extracting(Contender::name)
                        .doesNotContain(PostgresPeers.TABLE_FLOOR);
            }
        }
        if (PostgresServer.fromEnvironment() == null) {
            assertThat(portOpen(address)).as("the throwaway server is stopped").isFalse();
        }
    }

    /** Four threads enter a section on two keys 25 times each: never two inside at once. */
    private static void assertExcludes(Contender c) throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<String> keys = List.of("excl-a-" + c.name(), "excl-b-" + c.name());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 25; i++) {
                        c.locked(keys, () -> {
                            if (inside.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            inside.decrementAndGet();
                        }, System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(overlaps.get()).as(c.name() + " overlaps").isZero();
    }

    @Test
    void advisoryFloor_givesUpAtItsDeadline_andReleasesWhatItsSessionHeld() throws Exception {
        requireServer();
        try (Backends backends = Backends.start(false, false, false, true)) {
            HikariDataSource pool = backends.postgres;
            assertThat(pool).isNotNull();
            Contender floor = PostgresPeers.advisoryFloor(pool);
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            ExecutorService holder = Executors.newSingleThreadExecutor();
            try {
                Future<?> holding = holder.submit(() -> {
                    floor.locked(List.of("floor-b"), () -> {
                        held.countDown();
                        try {
                            done.await(60, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }, System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
                    return null;
                });
                assertThat(held.await(60, TimeUnit.SECONDS)).isTrue();
                // floor-a is taken, then floor-b waits until the deadline: the call gives up, and floor-a must not
                // stay locked on the pooled session.
                assertThatThrownBy(() -> floor.locked(List.of("floor-a", "floor-b"), () -> { },
                        System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500))).isInstanceOf(TimeoutException.class);
                assertThat(advisoryLocksOn(pool, "floor-a")).as("sessions still holding floor-a").isZero();
                assertThat(advisoryLocksOn(pool, "floor-b")).as("the holder's lock").isEqualTo(1);
                done.countDown();
                holding.get(60, TimeUnit.SECONDS);
            } finally {
                done.countDown();
                holder.shutdownNow();
            }
        }
    }

    /** How many sessions hold the advisory lock of {@code key} (a bigint key is classid: high, objid: low half). */
    private static int advisoryLocksOn(HikariDataSource pool, String key) throws java.sql.SQLException {
        long id = PostgresPeers.advisoryKey(key);
        try (Connection c = pool.getConnection(); java.sql.PreparedStatement p = c.prepareStatement(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                        + " AND classid::bigint = ? AND objid::bigint = ?")) {
            p.setLong(1, id >>> 32);
            p.setLong(2, id & 0xffffffffL);
            try (ResultSet r = p.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    private static boolean portOpen(URI address) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address.getHost(), address.getPort()), 2_000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
