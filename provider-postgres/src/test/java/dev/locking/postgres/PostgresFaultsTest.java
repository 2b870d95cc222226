package dev.locking.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.core.Locking;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Faults on a server of its own (started from the binaries, so it can be restarted): a restart while a job runs
 * and while others wait, and the LISTEN connection killed with {@code pg_terminate_backend}. (A holder JVM killed
 * with SIGKILL is the kit's "several JVMs" check, which the conformance test runs.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PostgresFaultsTest {
    private @Nullable PostgresProcess server;

    @BeforeAll
    void startServer() {
        Path bin = PostgresProcess.binaries();
        if (bin == null && !"true".equalsIgnoreCase(System.getenv("CI"))) {
            Assumptions.abort("no initdb/pg_ctl binaries: the server cannot be restarted by the test");
        }
        server = PostgresProcess.start(java.util.Objects.requireNonNull(bin, "initdb/pg_ctl binaries"));
    }

    @AfterAll
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    private PostgresProcess server() {
        return java.util.Objects.requireNonNull(server);
    }

    private LockingProvider provider(String id) {
        return new PostgresProviderFactory().create(TestConfig.of(id, "url", server().url(), "user",
                PostgresProcess.USER, "password", PostgresProcess.PASSWORD, "connectTimeout", "1s", "timeout", "2s"));
    }

    private Connection admin() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", PostgresProcess.USER);
        p.setProperty("password", PostgresProcess.PASSWORD);
        return DriverManager.getConnection(server().url(), p);
    }

    @Test
    void aRestartDuringExecuteAndWaits_givesBoundedErrors_andTheSameServiceRecovers() throws Exception {
        LockingProvider provider = provider("lp_pg");
        try (LockingService locking = Locking.builder().provider(provider).defaultProvider("lp_pg").build()) {
            ExecuteOptions opts = ExecuteOptions.builder().timeout(Duration.ofSeconds(20))
                    .expire(Duration.ofSeconds(30)).build();
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            AtomicLong holderToken = new AtomicLong();
            CompletableFuture<Object> holder = CompletableFuture.supplyAsync(() -> locking.execute("k", lock -> {
                holderToken.set(lock.fencingToken("k"));
                running.countDown();
                try {
                    finish.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return "held";
            }, opts));
            assertThat(running.await(20, TimeUnit.SECONDS)).isTrue();
            AtomicLong waiterToken = new AtomicLong();
            CompletableFuture<Object> waiter = CompletableFuture.supplyAsync(() -> locking.execute("k",
                    lock -> waiterToken.getAndSet(lock.fencingToken("k")), opts));
            await().atMost(Duration.ofSeconds(10)).until(() -> queued("k") == 1);

            server().stopServer("immediate"); // a crash: PostgreSQL recovers the committed rows from its WAL
            long down = System.nanoTime();
            Throwable meanwhile = catchThrowable(() -> locking.execute("other", lock -> "ran",
                    ExecuteOptions.builder().timeout(Duration.ofSeconds(1)).build()));
            assertThat(meanwhile).isInstanceOf(ProviderUnavailableException.class);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - down)).as("ms to fail").isLessThan(8000);
            server().startServer();

            finish.countDown();
            Throwable holderEnd = catchThrowable(() -> holder.get(30, TimeUnit.SECONDS));
            // The holder's job ended after the restart: its release reached the server, or the core retried it.
            assertThat(holderEnd).isNull();
            // The waiter either got the key after the restart, or failed (while the server was down) with
            // ProviderUnavailableException: a bounded error, never a hang.
            Throwable waiterEnd = catchThrowable(() -> waiter.get(30, TimeUnit.SECONDS));
            if (waiterEnd == null) {
                assertThat(waiterToken.get()).isGreaterThan(holderToken.get());
            } else {
                assertThat(waiterEnd).hasCauseInstanceOf(ProviderUnavailableException.class);
            }

            long after = locking.execute("k", lock -> lock.fencingToken("k"), opts);
            assertThat(after).isGreaterThan(Math.max(holderToken.get(), waiterToken.get()));
            await().atMost(Duration.ofSeconds(10)).until(() -> ((PostgresLockingProvider) provider).isListening());
            assertWakesOnRelease(provider, "after-restart");
        }
    }

    @Test
    void killingTheListenConnection_stillWakesWaiters() throws Exception {
        PostgresLockingProvider provider = (PostgresLockingProvider) provider("lp_pg_listen");
        try {
            assertWakesOnRelease(provider, "before"); // starts the listener
            int killed;
            try (Connection c = admin(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            + " WHERE application_name = 'locking lp_pg_listen listen'")) {
                rs.next();
                killed = rs.getInt(1);
            }
            assertThat(killed).isEqualTo(1);
            // A waiter that sleeps while the listener is away still wakes soon after the release.
            assertThat(provider.tryAcquire(List.of("w"), "holder", Duration.ofSeconds(30)))
                    .isInstanceOf(AcquireResult.Acquired.class);
            CompletableFuture<Long> woke = CompletableFuture.supplyAsync(() -> {
                try {
                    long start = System.nanoTime();
                    while (provider.inspect("w").isPresent()) {
                        provider.awaitRelease(List.of("w"), Duration.ofSeconds(2));
                    }
                    return System.nanoTime() - start;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(10)).until(provider::isListening);
            provider.release(List.of("w"), "holder");
            assertThat(woke.get(10, TimeUnit.SECONDS)).isPositive();
            assertWakesOnRelease(provider, "after");
            try (Connection c = admin(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'locking lp_pg_listen listen'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("listen connections").isEqualTo(1);
            }
        } finally {
            provider.close();
        }
    }

    /** A waiter in awaitRelease is woken by the release's notification, well before its 1 s slice. */
    private static void assertWakesOnRelease(LockingProvider provider, String key) throws Exception {
        PostgresLockingProvider p = (PostgresLockingProvider) provider;
        assertThat(p.tryAcquire(List.of(key), "holder", Duration.ofSeconds(30))).isInstanceOf(AcquireResult.Acquired.class);
        AtomicLong wokeAt = new AtomicLong();
        Thread waiter = new Thread(() -> {
            try {
                p.awaitRelease(List.of(key), Duration.ofSeconds(30));
                wokeAt.set(System.nanoTime());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiter.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> p.sleepingWaiters() == 1 && p.isListening());
        long released = System.nanoTime();
        p.release(List.of(key), "holder");
        waiter.join(10_000);
        assertThat(TimeUnit.NANOSECONDS.toMillis(wokeAt.get() - released)).as("ms from release to wake-up")
                .isLessThan(700);
    }

    private int queued(String key) throws SQLException {
        try (Connection c = admin(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT count(*) FROM locking_locks_queue WHERE lock_key = '" + key + "'::bytea")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
