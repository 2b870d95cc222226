package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryUpdatedListener;
import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.AcquireResult.Conflict;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What is particular to lp_hazelcast's hand-off to queued owners (the kit's HandOff group checks the
 * contract): a grant that comes before its owner waits is kept, only the owner's JVM hears of it, no plain
 * acquire barges past a queue, a lapsed holder is handed on, releaseAll hands on, the queue keeps its entry
 * alive, bad input and foreign data change nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HandOffTest {

    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final Duration STAY = Duration.ofSeconds(60);
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final TestMembers.MemberAndClient cluster = TestMembers.MemberAndClient.start("handoff");

    @AfterAll
    void stop() {
        cluster.close();
    }

    private static String map() {
        return "map-" + UUID.randomUUID();
    }

    private LockingProvider provider(String mapName) {
        return HazelcastProviderFactory.fromInstance("lp_hazelcast", cluster.client(), mapName);
    }

    private static String holder(LockingProvider provider, String key) {
        return provider.inspect(key).map(LockInfo::ownerId).orElse("nobody");
    }

    private static long token(AcquireResult result, String key) {
        assertThat(result).isInstanceOf(Acquired.class);
        return ((Acquired) result).fencingTokens().get(key);
    }

    @Test
    void aGrantThatComesBeforeItsOwnerWaits_isKept() throws Exception {
        try (LockingProvider provider = provider(map())) {
            HazelcastLockingProvider hz = (HazelcastLockingProvider) provider;
            provider.acquireOrQueue("k", "exec:s:a", LEASE, STAY);
            assertThat(provider.acquireOrQueue("k", "exec:s:b", LEASE, STAY)).isInstanceOf(Conflict.class);

            assertThat(provider.release(List.of("k"), "exec:s:a")).isTrue();
            await().atMost(PATIENCE).until(() -> hz.grantArrived("exec:s:b"));

            long start = System.nanoTime();
            Acquired grant = provider.awaitGrant("k", "exec:s:b", Duration.ofMinutes(5));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the grant was waiting")
                    .isLessThan(Duration.ofSeconds(10));
            assertThat(grant).isNotNull();
            assertThat(grant.fencingTokens().get("k")).isEqualTo(provider.inspect("k").orElseThrow().fencingToken());
            assertThat(hz.grantSlots()).as("a granted owner's slot is gone").isZero();
        }
    }

    @Test
    void aGrant_reachesOnlyTheJvmOfItsOwner() {
        String mapName = map();
        IMap<String, LockEntry> locks = cluster.client().getMap(mapName);
        AtomicInteger toOne = new AtomicInteger();
        AtomicInteger toTwo = new AtomicInteger();
        locks.addEntryListener((EntryUpdatedListener<String, LockEntry>) e -> toOne.incrementAndGet(),
                new GrantListener.GrantedTo("exec:one:"), true);
        locks.addEntryListener((EntryUpdatedListener<String, LockEntry>) e -> toTwo.incrementAndGet(),
                new GrantListener.GrantedTo("exec:two:"), true);
        try (LockingProvider provider = provider(mapName)) {
            provider.acquireOrQueue("k", "exec:two:a", LEASE, STAY);
            provider.acquireOrQueue("k", "exec:one:b", LEASE, STAY);
            provider.acquireOrQueue("k", "exec:one:c", LEASE, STAY);
            provider.release(List.of("k"), "exec:two:a");
            await().atMost(PATIENCE).until(() -> toOne.get() >= 1);
            // Taking, queueing, renewing and releasing without a queue send nothing to anybody.
            assertThat(provider.extend(List.of("k"), "exec:one:b", LEASE)).isTrue();
            provider.acquireOrQueue("k", "exec:two:d", LEASE, STAY);
            provider.leaveQueue("k", "exec:two:d");
            assertThat(provider.tryAcquire(List.of("free"), "exec:two:e", LEASE)).isInstanceOf(Acquired.class);
            assertThat(provider.release(List.of("free"), "exec:two:e")).isTrue();
            provider.release(List.of("k"), "exec:one:b"); // to c: the second grant for "one"
            provider.acquireOrQueue("k", "exec:two:f", LEASE, STAY);
            provider.release(List.of("k"), "exec:one:c"); // to f: the first grant for "two"
            // Events of one registration come in the order of the updates of the key.
            await().atMost(PATIENCE).until(() -> toTwo.get() >= 1);
            await().atMost(PATIENCE).until(() -> toOne.get() >= 2);
            assertThat(toOne).hasValue(2);
            assertThat(toTwo).hasValue(1);
            assertThat(holder(provider, "k")).isEqualTo("exec:two:f");
        }
    }

    @Test
    void manyServicesOverOneProvider_shareOneCatchAllGrantListener_andStillGetTheirGrants() {
        try (LockingProvider provider = provider(map())) {
            HazelcastLockingProvider hz = (HazelcastLockingProvider) provider;
            for (int service = 0; service < 12; service++) {
                provider.acquireOrQueue("k" + service, "exec:service-" + service + ":1", LEASE, STAY);
            }
            assertThat(hz.grantListeners()).as("8 prefixes, then one for every grant")
                    .isEqualTo(Backend.MAX_GRANT_PREFIXES + 1);

            assertThat(provider.acquireOrQueue("k11", "exec:service-11:2", LEASE, STAY)).isInstanceOf(Conflict.class);
            provider.release(List.of("k11"), "exec:service-11:1");
            await().atMost(PATIENCE).until(() -> hz.grantArrived("exec:service-11:2"));
        }
    }

    @Test
    void aPlainAcquire_ofOneKeyOrSeveral_doesNotBargePastAQueue_whenTheHoldersLeaseLapsed() {
        try (LockingProvider provider = provider(map())) {
            provider.acquireOrQueue("k", "exec:s:a", Duration.ofMillis(300), STAY);
            assertThat(provider.acquireOrQueue("k", "exec:s:b", LEASE, STAY)).isInstanceOf(Conflict.class);
            await().atMost(PATIENCE).until(() -> provider.inspect("k").isEmpty());

            assertThat(provider.tryAcquire(List.of("k"), "someone", LEASE)).isInstanceOf(Conflict.class);
            assertThat(provider.tryAcquire(List.of("k"), null, null)).isInstanceOf(Conflict.class);
            assertThat(provider.tryAcquire(List.of("j", "k"), "someone", LEASE)).isInstanceOf(Conflict.class);
            assertThat(provider.inspect("j")).as("rolled back").isEmpty();

            assertThat(provider.acquireOrQueue("k", "exec:s:b", LEASE, STAY)).as("the head takes it")
                    .isInstanceOf(Acquired.class);
            assertThat(holder(provider, "k")).isEqualTo("exec:s:b");
        }
    }

    @Test
    void aLapsedHolder_isHandedOnToTheHead_byTheQueueCallOfAnotherOwner() throws Exception {
        try (LockingProvider provider = provider(map())) {
            long first = token(provider.acquireOrQueue("k", "exec:s:a", Duration.ofMillis(300), STAY), "k");
            assertThat(provider.acquireOrQueue("k", "exec:s:b", Duration.ofMinutes(2), STAY))
                    .isInstanceOf(Conflict.class);
            await().atMost(PATIENCE).until(() -> provider.inspect("k").isEmpty());

            assertThat(provider.acquireOrQueue("k", "exec:s:c", LEASE, STAY)).isInstanceOf(Conflict.class);
            assertThat(holder(provider, "k")).isEqualTo("exec:s:b");
            Acquired grant = null;
            for (long end = System.nanoTime() + PATIENCE.toNanos(); grant == null && System.nanoTime() < end;) {
                grant = provider.awaitGrant("k", "exec:s:b", PATIENCE);
            }
            assertThat(token(grant, "k")).isGreaterThan(first);
            assertThat(grant.expiresAt()).as("a grant's first lease is the stay (60 s), not the lease (2 min)")
                    .isNotNull().isBefore(java.time.Instant.now().plus(STAY).plusSeconds(20));
        }
    }

    @Test
    void releaseAllOfAnOwner_andReleaseAll_handQueuedKeysOn() {
        try (LockingProvider provider = provider(map())) {
            provider.acquireOrQueue("k1", "exec:s:a", LEASE, STAY);
            provider.acquireOrQueue("k2", "exec:s:a", LEASE, STAY);
            provider.acquireOrQueue("k1", "exec:s:b", LEASE, STAY);
            provider.acquireOrQueue("k1", "exec:s:c", LEASE, STAY);

            provider.releaseAll("exec:s:a");
            assertThat(holder(provider, "k1")).isEqualTo("exec:s:b");
            assertThat(provider.inspect("k2")).isEmpty();
            long toB = provider.inspect("k1").orElseThrow().fencingToken();

            provider.releaseAll(null);
            assertThat(holder(provider, "k1")).isEqualTo("exec:s:c");
            assertThat(provider.inspect("k1").orElseThrow().fencingToken()).isGreaterThan(toB);
            provider.releaseAll(null);
            assertThat(provider.inspect("k1")).isEmpty();
        }
    }

    @Test
    void aQueuedEntry_keepsTheLockEntryAlive_untilItLapses() {
        String mapName = map();
        try (LockingProvider provider = provider(mapName)) {
            provider.acquireOrQueue("k", "exec:s:a", Duration.ofSeconds(1), STAY);
            provider.acquireOrQueue("k", "exec:s:b", LEASE, STAY);
            long ttl = cluster.member().getMap(mapName).getEntryView("k").getTtl();
            assertThat(ttl).isGreaterThan(STAY.toMillis() - 10_000);
        }
    }

    @Test
    void badInput_isRefused_andWritesNothing() {
        String mapName = map();
        try (LockingProvider provider = provider(mapName)) {
            assertThatThrownBy(() -> provider.acquireOrQueue("k", null, LEASE, STAY))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> provider.acquireOrQueue("k", "exec:s:a", LEASE, Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> provider.acquireOrQueue("k", "exec:s:a", Duration.ofSeconds(-1), STAY))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> provider.leaveQueue("k", null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> provider.awaitGrant("k", null, STAY)).isInstanceOf(IllegalArgumentException.class);
            assertThat(cluster.member().getMap(mapName).size()).isZero();
        }
    }

    @Test
    void foreignData_failsTheQueueCalls_andIsLeftAsItIs() {
        String mapName = map();
        HazelcastInstance client = cluster.client();
        IMap<String, Object> raw = client.getMap(mapName);
        raw.put("f", "someone else's value");
        try (LockingProvider provider = provider(mapName)) {
            assertThatThrownBy(() -> provider.acquireOrQueue("f", "exec:s:a", LEASE, STAY))
                    .isInstanceOf(LockingException.class).isNotInstanceOf(ProviderUnavailableException.class)
                    .hasMessageContaining("\"f\"").hasMessageContaining("not a lock");
            assertThatThrownBy(() -> provider.leaveQueue("f", "exec:s:a"))
                    .isInstanceOf(LockingException.class).hasMessageContaining("not a lock");
            assertThat(raw.get("f")).isEqualTo("someone else's value");
            assertThat(((HazelcastLockingProvider) provider).grantSlots()).isZero();
        }
    }

    @Test
    void aLockEntryWithAQueue_travelsWhole() {
        IMap<String, LockEntry> locks = cluster.client().getMap(map());
        LockEntry held = LockEntry.held("exec:s:a", 7, 1_000).withQueue(OwnerQueue.EMPTY
                .refreshed("exec:s:b", 30_000, 4_000, 500).refreshed("exec:s:\u0000ü", 1, 2, 3));
        LockEntry granted = held.handedTo(held.queue().head(), held.queue().withoutHead(), 8, 600);
        locks.set("k", granted);
        LockEntry read = locks.get("k");
        assertThat(read).isEqualTo(granted);
        assertThat(read.granted()).isTrue();
        assertThat(read.queue().head().owner()).isEqualTo("exec:s:\u0000ü");
        assertThat(read.expiresAt()).as("min(lease, stay)").isEqualTo(600 + 4_000);
    }
}
