package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.redisson.config.NameMapper;

/** {@code lp_redis} against one real Redis server, through the SPI. */
class RedisProviderTest {
    @RegisterExtension
    static final RedisServer REDIS = RedisServer.shared();

    /** A prefix the release scripts must quote: quotes, a backslash, a newline, a digit after them, non-ASCII. */
    private static final String AWKWARD_PREFIX = "q\"'\\\n7é:";

    private final List<LockingProvider> providers = new ArrayList<>();
    private String prefix = "";
    private LockingProvider redis;

    @BeforeEach
    void setUp() {
        prefix = "t-" + UUID.randomUUID() + ":";
        redis = provider(prefix);
    }

    @AfterEach
    void tearDown() {
        providers.forEach(LockingProvider::close);
        for (String p : List.of(prefix, "app[1]*?\\:", "app1zz?\\:", AWKWARD_PREFIX, "mapped:" + prefix)) {
            REDIS.deleteKeysStartingWith(p);
        }
    }

    private LockingProvider provider(String keyPrefix) {
        LockingProvider p = REDIS.provider("lp_redis", "keyPrefix", keyPrefix);
        providers.add(p);
        return p;
    }

    private String ownerIndex(String owner) {
        return ((RedisLockingProvider) redis).layout().ownerIndexKey(owner);
    }

    private static Map<String, Long> tokens(AcquireResult result) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        return ((AcquireResult.Acquired) result).fencingTokens();
    }

    private static AcquireResult.Acquired acquired(AcquireResult result) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        return (AcquireResult.Acquired) result;
    }

    @Nested
    class Acquire {
        @Test
        void multiKeyAcquire_isAllOrNothing_andReportsTheFirstHeldKey() {
            assertThat(redis.tryAcquire(List.of("b", "d"), "other", null)).isInstanceOf(AcquireResult.Acquired.class);

            assertThat(redis.tryAcquire(List.of("a", "b", "c", "d"), "me", null))
                    .isEqualTo(new AcquireResult.Conflict("b"));

            assertThat(redis.inspect("a")).isEmpty();
            assertThat(redis.inspect("c")).isEmpty();
        }

        @Test
        void sameOwner_reentersWithoutNewToken_andLeaseResetsExpiry() {
            Map<String, Long> first = tokens(redis.tryAcquire(List.of("k"), "me", Duration.ofSeconds(10)));
            Instant before = Instant.now();
            AcquireResult.Acquired again = acquired(redis.tryAcquire(List.of("k"), "me", Duration.ofSeconds(60)));

            assertThat(again.fencingTokens()).isEqualTo(first);
            assertThat(again.expiresAt()).isBetween(before.plusSeconds(59), Instant.now().plusSeconds(61));
            assertThat(redis.inspect("k").orElseThrow().expiresAt()).isAfter(before.plusSeconds(58));
        }

        @Test
        void sameOwner_reenteringWithoutLease_keepsTheOldExpiry() {
            Instant before = Instant.now();
            redis.tryAcquire(List.of("k"), "me", Duration.ofSeconds(20));
            AcquireResult.Acquired again = acquired(redis.tryAcquire(List.of("k"), "me", null));

            assertThat(again.expiresAt()).isBetween(before.plusSeconds(18), before.plusSeconds(21));
        }

        @Test
        void anonymousLock_isReenteredByNobody() {
            redis.tryAcquire(List.of("k"), null, null);

            assertThat(redis.tryAcquire(List.of("k"), null, null)).isEqualTo(new AcquireResult.Conflict("k"));
            assertThat(redis.tryAcquire(List.of("k"), "me", null)).isEqualTo(new AcquireResult.Conflict("k"));
        }

        @Test
        void withoutLease_theLockHasNoTtl() {
            AcquireResult.Acquired result = acquired(redis.tryAcquire(List.of("k"), "me", null));

            assertThat(result.expiresAt()).isNull();
            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.number("PTTL", prefix + "{k}")).isEqualTo(-1L);
            }
        }

        @Test
        void tokensRise_acrossRelease_expiry_andReleaseAll() {
            long t1 = tokens(redis.tryAcquire(List.of("k"), "me", null)).get("k");
            redis.release(List.of("k"), "me");
            long t2 = tokens(redis.tryAcquire(List.of("k"), null, Duration.ofMillis(50))).get("k");
            await().atMost(Duration.ofSeconds(5)).until(() -> redis.inspect("k").isEmpty());
            long t3 = tokens(redis.tryAcquire(List.of("k"), "me", null)).get("k");
            redis.releaseAll(null);
            long t4 = tokens(redis.tryAcquire(List.of("k"), "me", null)).get("k");

            assertThat(List.of(t1, t2, t3, t4)).isSortedAccordingTo(Long::compare).doesNotHaveDuplicates();
        }

        @Test
        void keysWithBracesBackslashesAndNewlines_areDistinctLocks() {
            List<String> keys = List.of("\\", "a\nb", "a\\nb", "a{b}", "a\\(b\\)", "{b}", "{}", "?", "\uD800",
                    "\uD83D\uDE00");
            List<String> sorted = keys.stream().sorted().toList();
            Map<String, Long> tokens = tokens(redis.tryAcquire(sorted, "me", null));

            assertThat(tokens).containsOnlyKeys(keys);
            for (String key : keys) {
                assertThat(redis.inspect(key)).get().extracting(LockInfo::ownerId).isEqualTo("me");
            }
            assertThat(redis.release(sorted, "me")).isTrue();
            for (String key : keys) {
                assertThat(redis.inspect(key)).isEmpty();
            }
        }

        @Test
        void lockValue_isTheOwner_andEmptyForAnAnonymousLock() {
            redis.tryAcquire(List.of("owned"), "me", null);
            redis.tryAcquire(List.of("anonymous"), null, null);

            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.call("GET", prefix + "{owned}")).isEqualTo("me");
                assertThat(admin.call("GET", prefix + "{anonymous}")).isEqualTo("");
                assertThat(admin.call("GET", prefix + "{owned}:fence")).isNotNull();
            }
        }
    }

    @Nested
    class Release {
        @Test
        void followsTheOwnerRules() {
            redis.tryAcquire(List.of("anon"), null, null);
            redis.tryAcquire(List.of("mine"), "me", null);

            assertThat(redis.release(List.of("mine"), null)).isFalse();
            assertThat(redis.release(List.of("mine"), "other")).isFalse();
            assertThat(redis.release(List.of("anon", "mine"), "other")).isFalse();
            assertThat(redis.inspect("anon")).isEmpty();
            assertThat(redis.release(List.of("mine"), "me")).isTrue();
            assertThat(redis.release(List.of("mine"), "me")).isFalse();
        }

        @Test
        void releaseAllOfAnOwner_leavesALockAnotherOwnerTookMeanwhile() {
            redis.tryAcquire(List.of("a", "b"), "first", Duration.ofMillis(100));
            redis.tryAcquire(List.of("c"), "first", null);
            await().atMost(Duration.ofSeconds(5)).until(() -> redis.inspect("a").isEmpty());
            redis.tryAcquire(List.of("a"), "second", null);

            redis.releaseAll("first");

            assertThat(redis.inspect("a")).get().extracting(LockInfo::ownerId).isEqualTo("second");
            assertThat(redis.inspect("c")).isEmpty();
            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.number("EXISTS", ownerIndex("first"))).isZero();
                assertThat(admin.number("SCARD", ownerIndex("second"))).isEqualTo(1L);
            }
        }

        @Test
        void releaseAllOfAnOwner_leavesAnonymousLocksAlone() {
            redis.tryAcquire(List.of("a"), "first", Duration.ofMillis(100));
            await().atMost(Duration.ofSeconds(5)).until(() -> redis.inspect("a").isEmpty());
            redis.tryAcquire(List.of("a"), null, null);

            redis.releaseAll("first");

            assertThat(redis.inspect("a")).isPresent();
        }

        @Test
        void ownerIndex_expiresNoEarlierThanTheLocksItLists() {
            redis.tryAcquire(List.of("a"), "me", Duration.ofSeconds(30));
            redis.tryAcquire(List.of("b"), "me", Duration.ofSeconds(5));
            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.number("PTTL", ownerIndex("me"))).isGreaterThan(25_000L);
                redis.tryAcquire(List.of("c"), "me", null);
                assertThat(admin.number("PTTL", ownerIndex("me"))).isEqualTo(-1L);
            }
        }

        @Test
        void releaseAll_deletesOnlyLocksUnderAPrefixWithGlobCharacters() {
            LockingProvider globby = provider("app[1]*?\\:");
            LockingProvider lookalike = provider("app1zz?\\:");
            globby.tryAcquire(List.of("k"), "me", null);
            lookalike.tryAcquire(List.of("k"), "me", null);
            long before = tokens(globby.tryAcquire(List.of("other"), null, null)).get("other");

            globby.releaseAll(null);

            assertThat(globby.inspect("k")).isEmpty();
            assertThat(globby.inspect("other")).isEmpty();
            assertThat(lookalike.inspect("k")).isPresent();
            assertThat(tokens(globby.tryAcquire(List.of("other"), null, null)).get("other")).isGreaterThan(before);
            lookalike.releaseAll(null);
        }

        @Test
        void releaseAll_handlesMoreLocksThanOneBatch() {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < SlotGroup.BATCH * 2 + 17; i++) {
                keys.add(String.format("key-%05d", i));
            }
            redis.tryAcquire(keys.subList(0, 600), "me", null);
            redis.tryAcquire(keys.subList(600, keys.size()), null, null);

            redis.releaseAll("me");
            assertThat(redis.inspect(keys.get(599))).isEmpty();
            assertThat(redis.inspect(keys.get(600))).isPresent();

            redis.releaseAll(null);
            try (RespClient admin = REDIS.admin()) {
                assertThat(admin.call("KEYS", prefix + "{*}")).isEqualTo(List.of());
            }
        }
    }

    @Nested
    class Extend {
        @Test
        void resetsTheLease_onlyWhenTheOwnerHoldsEveryKey() {
            redis.tryAcquire(List.of("a", "b"), "me", Duration.ofSeconds(5));
            redis.tryAcquire(List.of("c"), "other", Duration.ofSeconds(5));

            assertThat(redis.extend(List.of("a", "b"), "me", Duration.ofSeconds(60))).isTrue();
            assertThat(redis.inspect("b").orElseThrow().expiresAt()).isAfter(Instant.now().plusSeconds(50));
            assertThat(redis.extend(List.of("a", "c"), "me", Duration.ofSeconds(60))).isFalse();
            assertThat(redis.extend(List.of("a"), "other", Duration.ofSeconds(60))).isFalse();
        }

        @Test
        void failsWhenTheKeyWasDeletedBehindItsBack() {
            redis.tryAcquire(List.of("a"), "me", Duration.ofSeconds(5));
            try (RespClient admin = REDIS.admin()) {
                admin.call("DEL", prefix + "{a}");
            }

            assertThat(redis.extend(List.of("a"), "me", Duration.ofSeconds(5))).isFalse();
        }
    }

    @Nested
    class Inspect {
        @Test
        void reportsOwnerExpiryAndToken() {
            Instant before = Instant.now();
            long token = tokens(redis.tryAcquire(List.of("k"), "me", Duration.ofSeconds(30))).get("k");

            LockInfo info = redis.inspect("k").orElseThrow();

            assertThat(info.key()).isEqualTo("k");
            assertThat(info.ownerId()).isEqualTo("me");
            assertThat(info.fencingToken()).isEqualTo(token);
            assertThat(info.expiresAt()).isBetween(before.plusSeconds(28), Instant.now().plusSeconds(31));
        }

        @Test
        void anonymousLockWithoutLease_hasNoOwnerAndNoExpiry() {
            redis.tryAcquire(List.of("k"), null, null);

            LockInfo info = redis.inspect("k").orElseThrow();

            assertThat(info.ownerId()).isNull();
            assertThat(info.expiresAt()).isNull();
        }
    }

    @Nested
    class Waiting {
        @Test
        void aReleaseWakesAWaiterAtOnce_notAtTheEndOfItsSlice() throws Exception {
            LockingProvider slow = new RedisLockingProvider("lp_redis", RedisSettings.parse(
                    TestConfig.of("lp_redis", REDIS.options("keyPrefix", prefix))), null, Duration.ofSeconds(60));
            providers.add(slow);
            redis.tryAcquire(List.of("k"), "holder", null);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                CountDownLatch waiting = new CountDownLatch(1);
                Future<Long> waited = pool.submit(() -> {
                    waiting.countDown();
                    long start = System.nanoTime();
                    slow.awaitRelease(List.of("k"), Duration.ofSeconds(60));
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                });
                waiting.await();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> ((RedisLockingProvider) slow).sleepingWaiters() == 1);

                redis.release(List.of("k"), "holder");

                assertThat(waited.get(30, TimeUnit.SECONDS)).isLessThan(30_000L);
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void releasesUnderAnAwkwardPrefix_stillWakeWaitersAtOnce() throws Exception {
            // The channel and the prefix length are written into the release script's text (LuaScript.forLayout).
            RedisSettings settings = RedisSettings.parse(TestConfig.of("lp_redis",
                    REDIS.options("keyPrefix", AWKWARD_PREFIX)));
            LockingProvider holder = new RedisLockingProvider("lp_redis", settings, null);
            LockingProvider slow = new RedisLockingProvider("lp_redis", settings, null, Duration.ofSeconds(60));
            providers.add(holder);
            providers.add(slow);
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                // One key (the script's single-key path), then the second of two keys (the path for several).
                for (List<String> released : List.of(List.of("k"), List.of("a", "b"))) {
                    holder.tryAcquire(released, "holder", null);
                    String waitedFor = released.get(released.size() - 1);
                    Future<Long> waited = pool.submit(() -> {
                        long start = System.nanoTime();
                        slow.awaitRelease(List.of(waitedFor), Duration.ofSeconds(60));
                        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                    });
                    await().atMost(Duration.ofSeconds(10))
                            .until(() -> ((RedisLockingProvider) slow).sleepingWaiters() == 1);

                    assertThat(holder.release(released, "holder")).isTrue();

                    assertThat(waited.get(30, TimeUnit.SECONDS)).isLessThan(30_000L);
                }
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void aRelease_wakesOneLocalWaiter_theOneThatRegisteredFirst() throws Exception {
            LockingProvider slow = new RedisLockingProvider("lp_redis", RedisSettings.parse(
                    TestConfig.of("lp_redis", REDIS.options("keyPrefix", prefix))), null, Duration.ofSeconds(60));
            providers.add(slow);
            RedisLockingProvider waiting = (RedisLockingProvider) slow;
            redis.tryAcquire(List.of("k"), "holder", null);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            BlockingQueue<Integer> returned = new LinkedBlockingQueue<>();
            List<Future<?>> waits = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    int n = i;
                    waits.add(pool.submit(() -> {
                        slow.awaitRelease(List.of("k"), Duration.ofSeconds(60));
                        returned.add(n);
                        return null;
                    }));
                    await().atMost(Duration.ofSeconds(10)).until(() -> waiting.sleepingWaiters() == n + 1);
                }

                for (int n = 0; n < 3; n++) {
                    // (The woken waiter would take the key now; this test only lets it go.)
                    redis.release(List.of("k"), "holder");

                    assertThat(returned.poll(30, TimeUnit.SECONDS)).isEqualTo(n);
                    int stillSleeping = 2 - n;
                    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
                            .until(() -> waiting.sleepingWaiters() == stillSleeping && returned.isEmpty());
                    redis.tryAcquire(List.of("k"), "holder", null);
                }
                for (Future<?> wait : waits) {
                    wait.get(10, TimeUnit.SECONDS); // no waiter failed
                }
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void onlyReleasesOfLocksSomeoneWaitsFor_areAnnounced() throws Exception {
            try (RespClient admin = REDIS.admin()) {
                long published = CommandStats.read(admin).getOrDefault("publish", 0L);
                redis.tryAcquire(List.of("k"), "holder", null);
                redis.release(List.of("k"), "holder");
                assertThat(CommandStats.read(admin).getOrDefault("publish", 0L)).isEqualTo(published);

                redis.tryAcquire(List.of("k", "other"), "holder", null);
                redis.awaitRelease(List.of("k"), Duration.ofMillis(200));
                long mark = admin.number("PTTL", prefix + "{k}:waiters");
                assertThat(mark).isBetween(1L, 1_200L); // the wait, plus a second
                assertThat(admin.call("EXISTS", prefix + "{other}:waiters")).isEqualTo(0L);
                redis.release(List.of("k", "other"), "holder");
                assertThat(CommandStats.read(admin).getOrDefault("publish", 0L)).isEqualTo(published + 1);
            }
        }

        @Test
        void anExpiryNobodyAnnounced_endsTheWaitSoon() throws Exception {
            redis.tryAcquire(List.of("k"), "holder", Duration.ofMillis(300));
            long start = System.nanoTime();

            redis.awaitRelease(List.of("k"), Duration.ofSeconds(20));
            redis.awaitRelease(List.of("k"), Duration.ofSeconds(20));

            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000L);
            assertThat(redis.tryAcquire(List.of("k"), "me", null)).isInstanceOf(AcquireResult.Acquired.class);
        }

        @Test
        void aFreeKey_returnsAtOnce_andMaxWaitBoundsTheWait() throws Exception {
            long start = System.nanoTime();
            redis.awaitRelease(List.of("free"), Duration.ofSeconds(30));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000L);

            redis.tryAcquire(List.of("held"), "holder", null);
            start = System.nanoTime();
            redis.awaitRelease(List.of("held"), Duration.ofMillis(200));
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(150L, 5_000L);
        }

        @Test
        void anInterruptEndsTheWait() throws Exception {
            redis.tryAcquire(List.of("k"), "holder", null);
            AtomicBoolean interrupted = new AtomicBoolean();
            Thread waiter = new Thread(() -> {
                try {
                    while (true) {
                        redis.awaitRelease(List.of("k"), Duration.ofSeconds(30));
                    }
                } catch (InterruptedException e) {
                    interrupted.set(true);
                }
            });
            waiter.start();
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> ((RedisLockingProvider) redis).waitingKeys() == 1);

            waiter.interrupt();
            waiter.join(10_000);

            assertThat(interrupted).isTrue();
            assertThat(((RedisLockingProvider) redis).waitingKeys()).isZero();
        }

        @Test
        void manyWaiters_shareOneSubscription() throws Exception {
            redis.tryAcquire(List.of("a", "b", "c"), "holder", null);
            ExecutorService pool = Executors.newFixedThreadPool(6);
            try {
                List<CompletableFuture<Void>> waits = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    String key = List.of("a", "b", "c").get(i % 3);
                    waits.add(CompletableFuture.runAsync(() -> {
                        try {
                            redis.awaitRelease(List.of(key), Duration.ofSeconds(1));
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }, pool));
                }
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> ((RedisLockingProvider) redis).waitingKeys() == 3);
                try (RespClient admin = REDIS.admin()) {
                    Object numsub = admin.call("PUBSUB", "NUMSUB", prefix + "released");
                    assertThat(numsub).isEqualTo(List.of(prefix + "released", 1L));
                }
                CompletableFuture.allOf(waits.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Nested
    class Connection {
        @Test
        void createDoesNotConnect_andAnUnreachableServerFailsWithinBoundedTime() {
            int closedPort = RedisProcess.freePort(false);
            LockingProvider unreachable = new RedisProviderFactory().create(TestConfig.of("lp_redis",
                    "address", "redis://:s3cr3t-pw@127.0.0.1:" + closedPort, "connectTimeout", "1s", "timeout", "1s"));
            providers.add(unreachable);
            long start = System.nanoTime();

            assertThatThrownBy(() -> unreachable.tryAcquire(List.of("k"), null, null))
                    .isInstanceOf(ProviderUnavailableException.class)
                    .hasMessageStartingWith("lp_redis: cannot connect to Redis")
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("redis://", "127.0.0.1"))
                    .satisfies(e -> assertNoSecretIn(e, "s3cr3t-pw"));

            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000L);
        }

        @Test
        void fromClient_usesTheApplicationsClient_andLeavesItRunning() {
            // The application's own config (the same server and credentials, made the way applications do).
            Config config = new Config(RedisSettings.parse(TestConfig.of("app", REDIS.options())).config);
            RedissonClient client = Redisson.create(config);
            try {
                LockingProvider shared = RedisProviderFactory.fromClient("lp_app", client, prefix);

                assertThat(shared.id()).isEqualTo("lp_app");
                assertThat(shared.tryAcquire(List.of("k"), "me", null)).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(redis.inspect("k")).get().extracting(LockInfo::ownerId).isEqualTo("me");
                shared.close();

                assertThat(client.isShutdown()).isFalse();
                assertThat(client.getBucket(prefix + "{k}", StringCodec.INSTANCE).get()).isEqualTo("me");
                assertThatThrownBy(() -> shared.inspect("k")).isInstanceOf(IllegalStateException.class);
            } finally {
                client.shutdown();
            }
        }

        /** A client of the test server whose NameMapper puts {@code tenant} before every name. */
        private RedissonClient clientWithNamesAfter(String tenant) {
            Config config = new Config(RedisSettings.parse(TestConfig.of("app", REDIS.options())).config);
            config.setNameMapper(new NameMapper() {
                @Override
                public String map(String name) {
                    return tenant + name;
                }

                @Override
                public String unmap(String name) {
                    return name.substring(tenant.length());
                }
            });
            return Redisson.create(config);
        }

        @Test
        void fromClient_withANameMapper_mapsTheScriptsKeysLikeRScript() {
            RedissonClient client = clientWithNamesAfter("mapped:");
            try {
                LockingProvider mapped = RedisProviderFactory.fromClient("lp_app", client, prefix);
                providers.add(mapped);

                assertThat(tokens(mapped.tryAcquire(List.of("k"), "me", Duration.ofSeconds(30)))).containsKey("k");

                try (RespClient admin = REDIS.admin()) {
                    assertThat(admin.call("GET", "mapped:" + prefix + "{k}")).isEqualTo("me");
                    assertThat(admin.call("EXISTS", prefix + "{k}")).isEqualTo(0L);
                }
                assertThat(mapped.inspect("k")).get().extracting(LockInfo::ownerId).isEqualTo("me");
                assertThat(mapped.release(List.of("k"), "me")).isTrue();
                assertThat(mapped.inspect("k")).isEmpty();
            } finally {
                client.shutdown();
            }
        }

        /**
         * A client's NameMapper maps the lock keys and the release channel; the scripts must publish on the
         * channel the subscription listens to, and name the lock so the waiter finds it. The waiter's slice is
         * a minute and the lock has no lease, so only the release message can wake it in time.
         */
        @Test
        void fromClient_withANameMapper_aReleaseWakesAWaiterByItsMessage() throws Exception {
            RedissonClient client = clientWithNamesAfter("tenant-7:");
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                RedisLockingProvider mapped = new RedisLockingProvider("lp_app",
                        RedisSettings.forConfig(new KeyLayout(prefix), client.getConfig(), "a mapped client"), client,
                        Duration.ofMinutes(1));
                providers.add(mapped);
                assertThat(tokens(mapped.tryAcquire(List.of("k"), "holder", null))).containsKey("k");
                Future<?> waiting = pool.submit(() -> {
                    mapped.awaitRelease(List.of("k"), Duration.ofMinutes(1));
                    return null;
                });
                await().atMost(Duration.ofSeconds(10)).until(() -> mapped.sleepingWaiters() == 1);

                assertThat(mapped.release(List.of("k"), "holder")).isTrue();

                waiting.get(20, TimeUnit.SECONDS); // a lost message would leave it asleep for the whole minute
            } finally {
                pool.shutdownNow();
                client.shutdown();
            }
        }

        /** The same for a grant: the message names the lock as the mapper maps it, and still reaches its owner. */
        @Test
        void fromClient_withANameMapper_aHandOffReachesTheQueuedOwnerByItsMessage() throws Exception {
            RedissonClient client = clientWithNamesAfter("tenant-7:");
            try {
                RedisLockingProvider mapped = new RedisLockingProvider("lp_app",
                        RedisSettings.forConfig(new KeyLayout(prefix), client.getConfig(), "a mapped client"), client,
                        Duration.ofMinutes(1));
                providers.add(mapped);
                assertThat(tokens(mapped.acquireOrQueue("k", "exec:a", Duration.ofMinutes(1), Duration.ofMinutes(1))))
                        .containsKey("k");
                assertThat(mapped.acquireOrQueue("k", "exec:b", Duration.ofMinutes(1), Duration.ofMinutes(1)))
                        .isInstanceOf(AcquireResult.Conflict.class);

                assertThat(mapped.release(List.of("k"), "exec:a")).isTrue();

                // Without the message the wait would last its whole minute (nobody's lease runs out).
                AcquireResult.Acquired grant = mapped.awaitGrant("k", "exec:b", Duration.ofSeconds(20));
                assertThat(grant).isNotNull();
                assertThat(grant.fencingTokens().get("k")).isEqualTo(mapped.inspect("k").orElseThrow().fencingToken());
            } finally {
                client.shutdown();
            }
        }

        @Test
        void fromClient_withAnotherClientImplementation_callsTheScriptsThroughRScript() {
            Config config = new Config(RedisSettings.parse(TestConfig.of("app", REDIS.options())).config);
            RedissonClient real = Redisson.create(config);
            // A client that is not Redisson's own class (as a wrapper or a proxy of an application would be).
            RedissonClient wrapped = (RedissonClient) Proxy.newProxyInstance(RedissonClient.class.getClassLoader(),
                    new Class<?>[] {RedissonClient.class}, (proxy, method, args) -> {
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try {
                LockingProvider other = RedisProviderFactory.fromClient("lp_app", wrapped, prefix);
                providers.add(other);
                try (RespClient admin = REDIS.admin()) {
                    admin.call("SCRIPT", "FLUSH"); // also the NOSCRIPT path through RScript
                }

                long token = tokens(other.tryAcquire(List.of("a"), "me", Duration.ofSeconds(30))).get("a");
                assertThat(tokens(other.tryAcquire(List.of("a", "b"), "me", null))).containsEntry("a", token);
                assertThat(other.tryAcquire(List.of("b"), "you", null)).isInstanceOf(AcquireResult.Conflict.class);
                assertThat(other.inspect("b")).get().extracting(LockInfo::ownerId).isEqualTo("me");
                assertThat(other.release(List.of("a"), "me")).isTrue();
                other.releaseAll("me");
                assertThat(other.inspect("b")).isEmpty();
            } finally {
                real.shutdown();
            }
        }

        @Test
        void scriptsAreReloadedAfterScriptFlush() {
            redis.tryAcquire(List.of("a"), "me", null);
            try (RespClient admin = REDIS.admin()) {
                admin.call("SCRIPT", "FLUSH");
            }

            assertThat(redis.tryAcquire(List.of("b"), "me", null)).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(redis.release(List.of("a", "b"), "me")).isTrue();
        }

        @Test
        void eachOperation_isOneRoundTrip() {
            redis.tryAcquire(List.of("warm"), "me", null);
            redis.release(List.of("warm"), "me");
            redis.extend(List.of("warm"), "me", Duration.ofSeconds(1));
            redis.inspect("warm");
            redis.releaseAll("me");
            try (Monitor monitor = new Monitor(REDIS::admin)) {
                assertThat(monitor.commandsDuring(() -> redis.tryAcquire(List.of("a", "b", "c"), "me",
                        Duration.ofSeconds(30)))).singleElement().asString().startsWithIgnoringCase("\"evalsha\"");
                assertThat(monitor.commandsDuring(() -> redis.extend(List.of("a", "b", "c"), "me",
                        Duration.ofSeconds(30)))).singleElement().asString().startsWithIgnoringCase("\"evalsha\"");
                assertThat(monitor.commandsDuring(() -> redis.inspect("a")))
                        .singleElement().asString().startsWithIgnoringCase("\"evalsha\"");
                assertThat(monitor.commandsDuring(() -> redis.release(List.of("a", "b", "c"), "me")))
                        .singleElement().asString().startsWithIgnoringCase("\"evalsha\"");
                redis.tryAcquire(List.of("a", "b"), "me", null);
                assertThat(monitor.commandsDuring(() -> redis.releaseAll("me")))
                        .hasSize(2).allMatch(c -> c.toLowerCase(java.util.Locale.ROOT).startsWith("\"evalsha\""));
            }
        }

        @Test
        void scriptsAreLoadedOnce_byTheirSha() {
            redis.inspect("connect-first");
            try (RespClient admin = REDIS.admin()) {
                admin.call("SCRIPT", "FLUSH");
            }
            try (Monitor monitor = new Monitor(REDIS::admin)) {
                List<String> first = monitor.commandsDuring(() -> redis.tryAcquire(List.of("a"), "me", null));
                List<String> second = monitor.commandsDuring(() -> redis.tryAcquire(List.of("b"), "me", null));

                assertThat(first).hasSize(3);
                assertThat(first.get(0)).startsWithIgnoringCase("\"evalsha\" \"" + LuaScript.ACQUIRE.sha() + "\"");
                assertThat(first.get(1)).startsWithIgnoringCase("\"script\" \"load\"");
                assertThat(first.get(2)).startsWithIgnoringCase("\"evalsha\" \"" + LuaScript.ACQUIRE.sha() + "\"");
                assertThat(second).singleElement().asString()
                        .startsWithIgnoringCase("\"evalsha\" \"" + LuaScript.ACQUIRE.sha() + "\"");
            }
        }
    }

    static void assertNoSecretIn(Throwable error, String... secrets) {
        for (Throwable e = error; e != null; e = e.getCause()) {
            for (String secret : secrets) {
                assertThat(String.valueOf(e.getMessage())).doesNotContain(secret);
            }
        }
    }
}
