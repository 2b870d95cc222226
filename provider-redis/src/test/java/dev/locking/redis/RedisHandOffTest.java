package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What {@code lp_redis}'s hand-off keeps in Redis and sends, beyond the kit's HandOff group: one grant message per
 * hand-off and none without a queue, a grant that arrives before the owner waits for it, the short first lease of a
 * grant, a holder whose lease ran out, no barging by multi-key calls, the queue's lifetime, and foreign data at
 * the queue's keys.
 */
class RedisHandOffTest {
    @RegisterExtension
    static final RedisServer REDIS = RedisServer.shared();

    private static final Duration LONG = Duration.ofSeconds(30);

    private final List<LockingProvider> providers = new ArrayList<>();
    private String prefix = "";
    private RedisLockingProvider redis;
    private RedisLockingProvider other;

    @BeforeEach
    void setUp() {
        prefix = "h-" + UUID.randomUUID() + ":";
        redis = provider();
        other = provider();
    }

    @AfterEach
    void tearDown() {
        providers.forEach(LockingProvider::close);
        REDIS.deleteKeysStartingWith(prefix);
    }

    private RedisLockingProvider provider() {
        LockingProvider p = REDIS.provider("lp_redis", "keyPrefix", prefix);
        providers.add(p);
        return (RedisLockingProvider) p;
    }

    private String ownerOf(String key) {
        return redis.inspect(key).map(LockInfo::ownerId).orElse(null);
    }

    private static long tokenOf(AcquireResult result, String key) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        return ((AcquireResult.Acquired) result).fencingTokens().get(key);
    }

    private static long publishes(RespClient admin) {
        return CommandStats.read(admin).getOrDefault("publish", 0L);
    }

    @Test
    void aReleaseNobodyQueuesFor_publishesNothing_andAHandOffPublishesOneGrant() throws Exception {
        try (RespClient admin = REDIS.admin()) {
            long before = publishes(admin);
            tokenOf(redis.acquireOrQueue("k", "exec:a", LONG, LONG), "k");
            assertThat(redis.release(List.of("k"), "exec:a")).isTrue();
            assertThat(publishes(admin)).as("nobody queued").isEqualTo(before);

            long first = tokenOf(redis.acquireOrQueue("k", "exec:a", LONG, LONG), "k");
            assertThat(other.acquireOrQueue("k", "exec:b", LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(redis.release(List.of("k"), "exec:a")).isTrue();
            assertThat(publishes(admin)).as("one grant").isEqualTo(before + 1);

            AcquireResult.Acquired grant = other.awaitGrant("k", "exec:b", LONG);
            assertThat(grant).isNotNull();
            assertThat(grant.fencingTokens().get("k")).isGreaterThan(first)
                    .isEqualTo(redis.inspect("k").orElseThrow().fencingToken());
            assertThat(ownerOf("k")).isEqualTo("exec:b");
            assertThat(other.release(List.of("k"), "exec:b")).isTrue();
            assertThat(publishes(admin)).as("the queue is empty again").isEqualTo(before + 1);
        }
    }

    @Test
    void releaseAllOfTheOwner_andReleaseAll_handTheirKeysToTheQueuedOwners() throws Exception {
        long a = tokenOf(redis.acquireOrQueue("a", "exec:x", LONG, LONG), "a");
        long b = tokenOf(redis.tryAcquire(List.of("b"), "exec:x", LONG), "b");
        other.acquireOrQueue("a", "exec:qa", LONG, LONG);
        other.acquireOrQueue("b", "exec:qb", LONG, LONG);

        redis.releaseAll("exec:x");

        assertThat(ownerOf("a")).isEqualTo("exec:qa");
        assertThat(ownerOf("b")).isEqualTo("exec:qb");
        assertThat(redis.inspect("a").orElseThrow().fencingToken()).isGreaterThan(a);
        assertThat(redis.inspect("b").orElseThrow().fencingToken()).isGreaterThan(b);
        assertThat(other.awaitGrant("a", "exec:qa", LONG)).isNotNull();
        assertThat(other.awaitGrant("b", "exec:qb", LONG)).isNotNull();

        redis.acquireOrQueue("a", "exec:next", LONG, LONG);
        long handedToQa = redis.inspect("a").orElseThrow().fencingToken();
        redis.releaseAll(null);
        assertThat(ownerOf("a")).as("releaseAll() hands on too").isEqualTo("exec:next");
        assertThat(redis.inspect("a").orElseThrow().fencingToken()).isGreaterThan(handedToQa);
        assertThat(redis.inspect("b")).as("nobody queued for b").isEmpty();
        assertThat(redis.awaitGrant("a", "exec:next", LONG)).isNotNull();
    }

    @Test
    void aGrantThatArrivesBeforeTheOwnerWaits_isKept_forAnyOwnerId() throws Exception {
        String owner = "exec:b \n{x}} !1 2 é";
        redis.acquireOrQueue("k", "exec:a", LONG, LONG);
        assertThat(other.acquireOrQueue("k", owner, LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);

        assertThat(redis.release(List.of("k"), "exec:a")).isTrue();
        await().atMost(Duration.ofSeconds(10)).until(() -> other.hasGrantFor(owner));

        long start = System.nanoTime();
        AcquireResult.Acquired grant = other.awaitGrant("k", owner, LONG);
        assertThat(grant).isNotNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(ownerOf("k")).isEqualTo(owner);
        assertThat(grant.fencingTokens().get("k")).isEqualTo(redis.inspect("k").orElseThrow().fencingToken());
    }

    @Test
    void aGrant_lastsTheShorterOfLeaseAndStay_andTheOwnersNextCallAnswersItAsItIs() {
        Duration stay = Duration.ofSeconds(3);
        redis.acquireOrQueue("k", "exec:a", LONG, LONG);
        other.acquireOrQueue("k", "exec:b", LONG, stay);
        redis.release(List.of("k"), "exec:a");

        try (RespClient admin = REDIS.admin()) {
            assertThat(admin.number("PTTL", prefix + "{k}")).isBetween(1L, stay.toMillis());
            long token = tokenOf(other.acquireOrQueue("k", "exec:b", LONG, stay), "k");
            assertThat(token).isEqualTo(redis.inspect("k").orElseThrow().fencingToken());
            assertThat(admin.number("PTTL", prefix + "{k}")).as("not renewed").isBetween(1L, stay.toMillis());
        }
    }

    @Test
    void aHolderWhoseLeaseRanOut_isFollowedByTheLiveHead_atTheNextCallOfAnyQueuedOwner() throws Exception {
        redis.acquireOrQueue("k", "exec:a", Duration.ofMillis(300), LONG);
        assertThat(other.acquireOrQueue("k", "exec:b", LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);
        assertThat(redis.acquireOrQueue("k", "exec:c", LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);

        // b's wait ends when a's lease runs out, not after the 30 s it allows: nobody announces an expiry.
        long start = System.nanoTime();
        assertThat(other.awaitGrant("k", "exec:b", LONG)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        await().atMost(Duration.ofSeconds(10)).until(() -> redis.inspect("k").isEmpty());

        // c's call finds the key free with b first: it goes to b, and c stays queued.
        assertThat(redis.acquireOrQueue("k", "exec:c", LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);
        assertThat(ownerOf("k")).isEqualTo("exec:b");
        assertThat(other.awaitGrant("k", "exec:b", LONG)).isNotNull();
    }

    @Test
    void aMultiKeyAcquire_doesNotBargePastALiveQueueEntry_butPassesALapsedOne() {
        redis.acquireOrQueue("k", "exec:a", Duration.ofMillis(200), LONG);
        Duration stay = Duration.ofMillis(1500);
        other.acquireOrQueue("k", "exec:b", LONG, stay);
        await().atMost(Duration.ofSeconds(10)).until(() -> redis.inspect("k").isEmpty());

        assertThat(redis.tryAcquire(List.of("j", "k"), "x", null)).isEqualTo(new AcquireResult.Conflict("k"));
        assertThat(redis.tryAcquire(List.of("k"), "x", null)).isEqualTo(new AcquireResult.Conflict("k"));
        assertThat(redis.inspect("j")).as("all or nothing").isEmpty();

        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> redis.tryAcquire(List.of("j", "k"), "x", null) instanceof AcquireResult.Acquired);
    }

    @Test
    void theQueueLivesAsLongAsItsLongestStay_andALeavingHolderHandsOn() {
        Duration stay = Duration.ofSeconds(4);
        redis.acquireOrQueue("k", "exec:a", LONG, stay);
        other.acquireOrQueue("k", "exec:b", LONG, stay);
        other.acquireOrQueue("k", "exec:c", LONG, stay);
        try (RespClient admin = REDIS.admin()) {
            assertThat(admin.number("PTTL", prefix + "{k}:queue")).isBetween(1L, stay.toMillis());
            assertThat(admin.number("PTTL", prefix + "{k}:entries")).isBetween(1L, stay.toMillis());

            redis.release(List.of("k"), "exec:a");
            other.leaveQueue("k", "exec:b");
            assertThat(ownerOf("k")).isEqualTo("exec:c");
            other.leaveQueue("k", "exec:c");
            other.leaveQueue("k", "exec:c");
            assertThat(redis.inspect("k")).isEmpty();
            assertThat(admin.call("EXISTS", prefix + "{k}:queue", prefix + "{k}:entries")).isEqualTo(0L);
        }
    }

    @Test
    void foreignDataAtTheQueue_isAClearError_andNothingChanges() {
        try (RespClient admin = REDIS.admin()) {
            admin.call("SET", prefix + "{q}:queue", "not a list");
            assertThatThrownBy(() -> redis.acquireOrQueue("q", "exec:a", LONG, LONG))
                    .isInstanceOf(LockingException.class)
                    .hasMessageContaining("the queue of key \"q\"").hasMessageContaining("holds a string");
            assertThatThrownBy(() -> redis.tryAcquire(List.of("p", "q"), "me", null))
                    .isInstanceOf(LockingException.class).hasMessageContaining("the queue of key \"q\"");
            assertThat(redis.inspect("q")).isEmpty();
            assertThat(redis.inspect("p")).isEmpty();

            redis.acquireOrQueue("e", "exec:a", LONG, LONG);
            redis.acquireOrQueue("e", "exec:b", LONG, LONG);
            admin.call("HSET", prefix + "{e}:entries", "exec:b", "garbage");
            assertThatThrownBy(() -> redis.release(List.of("e"), "exec:a"))
                    .isInstanceOf(LockingException.class)
                    .hasMessageContaining("the queue entries of key \"e\"")
                    .hasMessageContaining("an entry that is not a queue entry");
            assertThat(ownerOf("e")).as("nothing changed").isEqualTo("exec:a");
            assertThat(admin.call("HGET", prefix + "{e}:entries", "exec:b")).isEqualTo("garbage");
        }
    }
}
