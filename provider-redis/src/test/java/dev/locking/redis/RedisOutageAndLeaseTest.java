package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockHandle;
import dev.locking.api.LockInfo;
import dev.locking.api.LockLostException;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.api.ReleaseOptions;
import dev.locking.core.Locking;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code lp_redis} under a {@code LockingService}, against a server of its own that the tests stop and
 * start again on the same port: renewal, lost locks, Redis going away, bad input.
 */
class RedisOutageAndLeaseTest {
    private static final String ID = "lp_redis_test";
    private static RedisProcess server;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private LockingProvider provider;
    private LockingService locking;

    @BeforeAll
    static void startServer() {
        server = RedisProcess.start();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @BeforeEach
    void setUp() {
        if (!server.isRunning()) {
            server.begin();
        }
        provider = newProvider();
        locking = service(provider);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private LockingProvider newProvider() {
        LockingProvider p = new RedisProviderFactory().create(TestConfig.of(ID, "address", server.address(),
                "keyPrefix", "outage:", "connectTimeout", "1s", "timeout", "1s"));
        closeables.add(p);
        return p;
    }

    private LockingService service(LockingProvider p) {
        LockingService s = Locking.builder().provider(p).defaultProvider(ID).build();
        closeables.add(s);
        return s;
    }

    /** Blocks the job until the core interrupts it (a lost lock), or 60 s. */
    private static boolean waitForInterrupt() {
        try {
            return !new CountDownLatch(1).await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            return true;
        }
    }

    @Test
    void executeRenewsTheLease_pastItsEnd_whileTheJobRuns() {
        Duration lease = Duration.ofMillis(600);
        LockingProvider observer = newProvider();
        List<Instant> expiries = new ArrayList<>();

        String result = locking.execute("renewed", lock -> {
            long start = System.nanoTime();
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                LockInfo info = observer.inspect("renewed").orElseThrow();
                expiries.add(info.expiresAt());
                return System.nanoTime() - start > lease.toNanos() * 4;
            });
            lock.throwIfLost();
            return "done";
        }, ExecuteOptions.builder().expire(lease).build());

        assertThat(result).isEqualTo("done");
        assertThat(expiries.get(expiries.size() - 1)).isAfter(expiries.get(0).plus(lease));
        assertThat(observer.inspect("renewed")).isEmpty();
    }

    @Test
    void aKeyDeletedBehindTheJobsBack_losesTheLock() {
        AtomicReference<LockHandle> handle = new AtomicReference<>();
        AtomicBoolean interrupted = new AtomicBoolean();

        assertThatThrownBy(() -> locking.execute("deleted", lock -> {
            handle.set(lock);
            try (RespClient admin = server.admin()) {
                admin.call("DEL", "outage:{deleted}");
            }
            interrupted.set(waitForInterrupt());
            return "finished";
        }, ExecuteOptions.builder().expire(Duration.ofMillis(900)).build()))
                .isInstanceOf(LockLostException.class);

        assertThat(interrupted).isTrue();
        assertThat(handle.get().isLost()).isTrue();
    }

    @Test
    void redisStoppedDuringExecute_losesTheLockAfterItsLease_andTheServiceWorksAfterARestart() {
        Duration lease = Duration.ofSeconds(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        long[] stoppedAt = new long[1];

        assertThatThrownBy(() -> locking.execute("outage", lock -> {
            server.stop();
            stoppedAt[0] = System.nanoTime();
            interrupted.set(waitForInterrupt());
            return "finished";
        }, ExecuteOptions.builder().expire(lease).build()))
                .isInstanceOf(LockLostException.class);

        assertThat(interrupted).isTrue();
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stoppedAt[0])).isLessThan(20);

        server.begin();
        long token = locking.execute("outage", lock -> lock.fencingToken("outage"));
        assertThat(token).isPositive();
    }

    @Test
    void redisStoppedWhileExecuteWaits_isProviderUnavailable_andTheServiceWorksAfterARestart() throws Exception {
        locking.acquire("busy", AcquireOptions.builder().ownerId("holder").build());
        CompletableFuture<String> waiting = CompletableFuture.supplyAsync(() -> locking.execute("busy",
                lock -> "ran", ExecuteOptions.builder().timeout(Duration.ofMinutes(1)).build()));
        // A single-key execute waits in the key's queue in Redis, for its grant.
        await().atMost(Duration.ofSeconds(10))
                .until(() -> ((RedisLockingProvider) provider).expectedGrants() == 1);
        long stoppedAt = System.nanoTime();

        server.stop();

        assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ProviderUnavailableException.class);
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stoppedAt)).isLessThan(20);

        server.begin();
        String ran = locking.execute("busy", lock -> "ran");
        assertThat(ran).isEqualTo("ran");
    }

    @Test
    void everySpiCall_failsWithinBoundedTimeWhileRedisIsDown_andWorksAfterARestart() throws Exception {
        provider.tryAcquire(List.of("warm"), null, null);
        server.stop();

        List<ThrowingCall> calls = List.of(
                () -> provider.tryAcquire(List.of("a", "b"), "me", Duration.ofSeconds(5)),
                () -> provider.extend(List.of("a"), "me", Duration.ofSeconds(5)),
                () -> provider.release(List.of("a"), "me"),
                () -> provider.releaseAll("me"),
                () -> provider.releaseAll(null),
                () -> provider.inspect("a"),
                () -> provider.awaitRelease(List.of("a"), Duration.ofSeconds(30)));
        for (ThrowingCall call : calls) {
            long start = System.nanoTime();
            assertThatThrownBy(call::run).isInstanceOf(ProviderUnavailableException.class)
                    .satisfies(e -> assertThat(e.getMessage()).startsWith(ID + ": ").doesNotContain("redis://"));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000L);
        }

        server.begin();
        assertThat(provider.tryAcquire(List.of("a", "b"), "me", null)).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(provider.release(List.of("a", "b"), "me")).isTrue();
    }

    @Test
    void afterARestart_releaseNotificationsReachWaitersAgain() throws Exception {
        LockingProvider waiter = new RedisLockingProvider(ID, RedisSettings.parse(TestConfig.of(ID,
                "address", server.address(), "keyPrefix", "outage:")), null, Duration.ofMinutes(1));
        closeables.add(waiter);
        waiter.awaitRelease(List.of("free"), Duration.ofSeconds(1)); // subscribes
        server.stop();
        server.begin();
        try (RespClient admin = server.admin()) {
            await("Redisson subscribes again after the restart").atMost(Duration.ofSeconds(20))
                    .until(() -> List.of("outage:released", 1L).equals(
                            admin.call("PUBSUB", "NUMSUB", "outage:released")));
        }
        provider.tryAcquire(List.of("k"), "holder", null);
        CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
            try {
                waiter.awaitRelease(List.of("k"), Duration.ofMinutes(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> ((RedisLockingProvider) waiter).sleepingWaiters() == 1);

        provider.release(List.of("k"), "holder");

        waiting.get(30, TimeUnit.SECONDS);
    }

    @Test
    void aProviderCreatedWhileRedisIsDown_worksOnceItIsUp() {
        server.stop();
        LockingProvider early = newProvider();
        assertThatThrownBy(() -> early.inspect("k")).isInstanceOf(ProviderUnavailableException.class);

        server.begin();

        assertThat(early.tryAcquire(List.of("k"), null, Duration.ofSeconds(5)))
                .isInstanceOf(AcquireResult.Acquired.class);
    }

    @Test
    void badInput_neverReachesRedis() {
        locking.acquire("warm", AcquireOptions.builder().ownerId("me").build());
        locking.release("warm", ReleaseOptions.builder().ownerId("me").build());
        List<Runnable> badCalls = List.of(
                () -> locking.acquire(""),
                () -> locking.acquire("x".repeat(1025)),
                () -> locking.acquire(List.of(), AcquireOptions.builder().build()),
                () -> locking.acquire("k", AcquireOptions.builder().expire(Duration.ofSeconds(-1)).build()),
                () -> locking.acquire("k", AcquireOptions.builder().ownerId("").build()),
                () -> locking.release(""),
                () -> locking.release(List.of("ok", ""), ReleaseOptions.builder().build()),
                () -> locking.execute("", lock -> "never"),
                () -> locking.execute(List.of("ok", "x".repeat(2000)), lock -> "never"),
                () -> locking.inspect(""));
        try (RespClient admin = server.admin()) {
            Map<String, Long> before = CommandStats.read(admin);
            for (Runnable call : badCalls) {
                assertThatThrownBy(call::run).isInstanceOf(IllegalArgumentException.class);
            }
            Map<String, Long> after = CommandStats.read(admin);

            assertThat(CommandStats.total(after, "info", "ping")).isEqualTo(CommandStats.total(before, "info", "ping"));
        }
    }

    /** A call that may throw anything. */
    @FunctionalInterface
    interface ThrowingCall {
        void run() throws Exception;
    }
}
