package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code lp_redis} on a three-master Redis Cluster: keys of one call in several slots. */
class RedisClusterProviderTest {
    @RegisterExtension
    static final RedisCluster CLUSTER = RedisCluster.shared();

    private final List<LockingProvider> providers = new ArrayList<>();
    private String prefix = "";
    private LockingProvider redis;

    @BeforeEach
    void setUp() {
        prefix = "c-" + UUID.randomUUID() + ":";
        redis = provider();
    }

    @AfterEach
    void tearDown() {
        providers.forEach(LockingProvider::close);
    }

    private LockingProvider provider() {
        LockingProvider p = CLUSTER.provider("lp_redis", "keyPrefix", prefix);
        providers.add(p);
        return p;
    }

    /** Sorted keys whose locks fall in at least three different slots, on different nodes. */
    private static List<String> keysOnEveryNode() {
        List<String> keys = List.of("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel");
        assertThat(keys.stream().map(k -> RedisCluster.nodeOf(KeyLayout.slot("p:{" + k + "}"))).distinct()).hasSize(3);
        return keys;
    }

    @Test
    void aLocksSlot_isTheSlotOfItsWholeEscapedKey_whateverBracesTheKeyHolds() {
        KeyLayout layout = ((RedisLockingProvider) redis).layout();
        for (String key : List.of("plain", "{user1}.cart", "{user1}.orders", "a{}b", "}{")) {
            String lockKey = layout.lockKey(key);
            try (RespClient admin = CLUSTER.adminFor(0)) {
                long slot = admin.number("CLUSTER", "KEYSLOT", lockKey);
                byte[] escaped = KeyLayout.escape(key).getBytes(StandardCharsets.UTF_8);
                assertThat(slot).isEqualTo(KeyLayout.slot(lockKey))
                        .isEqualTo(KeyLayout.crc16(escaped, 0, escaped.length) % 16384)
                        .isEqualTo(admin.number("CLUSTER", "KEYSLOT", layout.fenceKey(key)));
            }
        }
        assertThat(KeyLayout.slot(layout.lockKey("{user1}.cart")))
                .isNotEqualTo(KeyLayout.slot(layout.lockKey("{user1}.orders")));
    }

    @Test
    void keysInSeveralSlots_areTakenTogether_andReleasedTogether() {
        List<String> keys = keysOnEveryNode();

        AcquireResult result = redis.tryAcquire(keys, "me", Duration.ofSeconds(30));

        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(((AcquireResult.Acquired) result).fencingTokens()).containsOnlyKeys(keys);
        for (String key : keys) {
            assertThat(redis.inspect(key)).get().extracting(LockInfo::ownerId).isEqualTo("me");
        }
        assertThat(redis.extend(keys, "me", Duration.ofSeconds(60))).isTrue();
        assertThat(redis.release(keys, "me")).isTrue();
        for (String key : keys) {
            assertThat(redis.inspect(key)).isEmpty();
        }
    }

    @Test
    void aConflictInALaterSlot_rollsBackTheSlotsTakenBefore() {
        List<String> keys = keysOnEveryNode();
        String last = keys.get(keys.size() - 1);
        long before = ((AcquireResult.Acquired) redis.tryAcquire(List.of(keys.get(0)), "me", null))
                .fencingTokens().get(keys.get(0));
        redis.release(List.of(keys.get(0)), "me");
        redis.tryAcquire(List.of(last), "other", null);

        assertThat(redis.tryAcquire(keys, "me", Duration.ofSeconds(30))).isEqualTo(new AcquireResult.Conflict(last));

        for (String key : keys.subList(0, keys.size() - 1)) {
            assertThat(redis.inspect(key)).as(key).isEmpty();
        }
        long after = ((AcquireResult.Acquired) redis.tryAcquire(List.of(keys.get(0)), "me", null))
                .fencingTokens().get(keys.get(0));
        assertThat(after).isGreaterThan(before);
    }

    @Test
    void theReportedConflict_isTheFirstHeldKeyInSortedOrder_evenInASlotTriedLater() {
        List<String> keys = keysOnEveryNode();
        // A slot's group is tried in the order of its smallest key; hold the second key of the list and a
        // key of the first group that sorts after it, so the first group conflicts first.
        String first = keys.get(0);
        int firstSlot = KeyLayout.slot(((RedisLockingProvider) redis).layout().lockKey(first));
        String laterInFirstSlot = null;
        String earlierElsewhere = null;
        for (String key : keys.subList(1, keys.size())) {
            int slot = KeyLayout.slot(((RedisLockingProvider) redis).layout().lockKey(key));
            if (slot != firstSlot && earlierElsewhere == null) {
                earlierElsewhere = key;
            }
        }
        List<String> all = new ArrayList<>(keys);
        for (int i = 0; laterInFirstSlot == null; i++) {
            String candidate = "zz-" + i;
            if (KeyLayout.slot(((RedisLockingProvider) redis).layout().lockKey(candidate)) == firstSlot) {
                laterInFirstSlot = candidate;
            }
        }
        all.add(laterInFirstSlot);
        redis.tryAcquire(List.of(laterInFirstSlot), "other", null);
        redis.tryAcquire(List.of(earlierElsewhere), "other", null);

        assertThat(redis.tryAcquire(all, "me", null)).isEqualTo(new AcquireResult.Conflict(earlierElsewhere));
        assertThat(redis.inspect(first)).isEmpty();
    }

    @Test
    void aRolledBackReentry_getsItsOldExpiryBack() {
        List<String> keys = keysOnEveryNode();
        String first = keys.get(0);
        String last = keys.get(keys.size() - 1);
        Instant start = Instant.now();
        redis.tryAcquire(List.of(first), "me", Duration.ofSeconds(20));
        redis.tryAcquire(List.of(last), "other", null);

        assertThat(redis.tryAcquire(keys, "me", Duration.ofMinutes(5))).isEqualTo(new AcquireResult.Conflict(last));

        LockInfo info = redis.inspect(first).orElseThrow();
        assertThat(info.ownerId()).isEqualTo("me");
        assertThat(info.expiresAt()).isBetween(start.plusSeconds(15), start.plusSeconds(21));
    }

    @Test
    void releaseAllOfAnOwner_andReleaseAll_reachEveryNode() {
        List<String> keys = keysOnEveryNode();
        redis.tryAcquire(keys.subList(0, 4), "me", null);
        redis.tryAcquire(keys.subList(4, 8), null, Duration.ofSeconds(30));

        redis.releaseAll("me");
        for (String key : keys.subList(0, 4)) {
            assertThat(redis.inspect(key)).isEmpty();
        }
        for (String key : keys.subList(4, 8)) {
            assertThat(redis.inspect(key)).isPresent();
        }

        redis.releaseAll(null);
        for (String key : keys) {
            assertThat(redis.inspect(key)).isEmpty();
        }
    }

    /** Another client of the cluster whose waiters look again only after a minute: a message must wake them. */
    private RedisLockingProvider secondClientWithALongSlice() {
        RedisLockingProvider client = new RedisLockingProvider("lp_redis", RedisSettings.parse(TestConfig.of(
                "lp_redis", "mode", "cluster", "nodes", CLUSTER.nodeList(), "keyPrefix", prefix)), null,
                Duration.ofSeconds(60));
        providers.add(client);
        return client;
    }

    @Test
    void aHandOffOnEveryNode_reachesTheQueuedOwnerOfAnotherClient() throws Exception {
        RedisLockingProvider waiterSide = secondClientWithALongSlice();
        Duration minute = Duration.ofSeconds(60);
        for (String key : keysOnEveryNode()) {
            long first = ((AcquireResult.Acquired) redis.acquireOrQueue(key, "exec:a", minute, minute))
                    .fencingTokens().get(key);
            assertThat(waiterSide.acquireOrQueue(key, "exec:b", minute, minute)).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(redis.tryAcquire(List.of(key), "other", null)).as("no barging").isInstanceOf(
                    AcquireResult.Conflict.class);

            assertThat(redis.release(List.of(key), "exec:a")).isTrue();

            AcquireResult.Acquired grant = waiterSide.awaitGrant(key, "exec:b", Duration.ofSeconds(20));
            assertThat(grant).as("grant of %s", key).isNotNull();
            assertThat(grant.fencingTokens().get(key)).isGreaterThan(first);
            assertThat(redis.inspect(key).orElseThrow().ownerId()).isEqualTo("exec:b");
            redis.releaseAll("exec:b");
            assertThat(redis.inspect(key)).as("releaseAll(owner) finds a handed key through its index").isEmpty();
        }
    }

    @Test
    void aReleaseOnOneNode_wakesAWaiterOfAnotherClient() throws Exception {
        LockingProvider waiterSide = secondClientWithALongSlice();
        List<String> keys = keysOnEveryNode();
        redis.tryAcquire(keys, "holder", null);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> waiting = pool.submit(() -> {
                waiterSide.awaitRelease(List.of(keys.get(5)), Duration.ofSeconds(60));
                return null;
            });
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> ((RedisLockingProvider) waiterSide).sleepingWaiters() == 1);
            long start = System.nanoTime();

            redis.release(List.of(keys.get(5)), "holder");

            waiting.get(30, TimeUnit.SECONDS);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(30_000L);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theOwnerIndexLivesInItsOwnSlot_andListsLocksOfEverySlot() {
        List<String> keys = keysOnEveryNode();
        redis.tryAcquire(keys, "me", Duration.ofSeconds(30));
        String index = ((RedisLockingProvider) redis).layout().ownerIndexKey("me");
        try (RespClient admin = CLUSTER.adminFor(KeyLayout.slot(index))) {
            assertThat(admin.number("SCARD", index)).isEqualTo(keys.size());
            assertThat(admin.number("PTTL", index)).isGreaterThan(20_000L);
        }
        redis.release(keys, "me");
        try (RespClient admin = CLUSTER.adminFor(KeyLayout.slot(index))) {
            assertThat(admin.number("EXISTS", index)).isZero();
        }
    }

    @Test
    void aNodeThatIsDownDuringAMultiSlotAcquire_leavesNothingTakenOnTheOthers() {
        // A cluster of its own, whose live nodes keep serving their slots while one node is down.
        try (RedisCluster.Nodes nodes = RedisCluster.Nodes.start("--cluster-require-full-coverage", "no")) {
            LockingProvider p = new RedisProviderFactory().create(TestConfig.of("lp_redis", "mode", "cluster",
                    "nodes", nodes.nodeList(), "keyPrefix", prefix, "connectTimeout", "1s", "timeout", "1s"));
            providers.add(p);
            List<String> keys = keysOnEveryNode();
            KeyLayout layout = ((RedisLockingProvider) p).layout();
            int firstNode = RedisCluster.nodeOf(KeyLayout.slot(layout.lockKey(keys.get(0))));
            int downNode = (firstNode + 1) % 3;
            p.inspect("connect-first");
            nodes.processes.get(downNode).stop();
            long start = System.nanoTime();

            assertThatThrownBy(() -> p.tryAcquire(keys, "me", Duration.ofMinutes(1)))
                    .isInstanceOf(ProviderUnavailableException.class);

            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(20);
            for (String key : keys) {
                if (RedisCluster.nodeOf(KeyLayout.slot(layout.lockKey(key))) != downNode) {
                    assertThat(p.inspect(key)).as(key).isEmpty();
                }
            }
        }
    }
}
