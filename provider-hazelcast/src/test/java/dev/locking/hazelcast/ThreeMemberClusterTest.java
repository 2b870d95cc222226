package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import dev.locking.api.LockInfo;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.AcquireResult.Conflict;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three members in this JVM (backup count 1, Hazelcast's default); one is terminated, without a graceful
 * shutdown, while locks are held and while threads contend. Providers: a client of all three, and one
 * running on a member that survives.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ThreeMemberClusterTest {

    private final List<HazelcastInstance> members = new ArrayList<>();
    private final List<LockingProvider> providers = new ArrayList<>();
    private String cluster = "";

    @BeforeEach
    void startCluster() {
        cluster = TestMembers.clusterName("three");
        List<Integer> ports = List.of(TestMembers.freePort(), TestMembers.freePort(), TestMembers.freePort());
        List<CompletableFuture<HazelcastInstance>> starting = new ArrayList<>();
        for (int port : ports) {
            starting.add(CompletableFuture.supplyAsync(() -> Hazelcast.newHazelcastInstance(
                    TestMembers.memberConfig(cluster, port, ports))));
        }
        starting.forEach(f -> members.add(f.join()));
        await().atMost(Duration.ofSeconds(60)).until(() -> members.stream().allMatch(m -> m.getCluster().getMembers().size() == 3));
        await().atMost(Duration.ofSeconds(60)).until(() -> members.get(0).getPartitionService().isClusterSafe());
    }

    @AfterEach
    void stopCluster() {
        providers.forEach(LockingProvider::close);
        members.forEach(m -> m.getLifecycleService().terminate());
    }

    private LockingProvider client(String mapName) {
        String addresses = members.stream().map(TestMembers::address).collect(Collectors.joining(","));
        LockingProvider provider = TestMembers.provider("lp_hazelcast", Map.of("members", addresses,
                "clusterName", cluster, "mapName", mapName, "connectTimeout", "10s", "operationTimeout", "10s"));
        providers.add(provider);
        return provider;
    }

    private LockingProvider onMember(int index, String mapName) {
        LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_member", members.get(index), mapName);
        providers.add(provider);
        return provider;
    }

    /** Terminates the member that owns the most of the given keys' partitions (never member 0). */
    private HazelcastInstance terminateAMemberOwning(List<String> keys) {
        Map<String, Integer> owned = new HashMap<>();
        for (String key : keys) {
            Partition partition = members.get(0).getPartitionService().getPartition(key);
            owned.merge(Objects.requireNonNull(partition.getOwner()).getUuid().toString(), 1, Integer::sum);
        }
        HazelcastInstance victim = members.subList(1, 3).stream()
                .max((a, b) -> Integer.compare(owned.getOrDefault(uuid(a), 0), owned.getOrDefault(uuid(b), 0)))
                .orElseThrow();
        assertThat(owned.getOrDefault(uuid(victim), 0)).as("keys owned by the member to terminate").isPositive();
        victim.getLifecycleService().terminate();
        members.remove(victim);
        await().atMost(Duration.ofSeconds(60)).until(() -> members.stream().allMatch(m -> m.getCluster().getMembers().size() == 2));
        await().atMost(Duration.ofSeconds(60)).until(() -> members.get(0).getPartitionService().isClusterSafe());
        return victim;
    }

    /**
     * Keys named {@code prefix + i}, the first of which a member other than member 0 owns, so that
     * {@link #terminateAMemberOwning} has a member to terminate whatever the partition table looks like.
     */
    private List<String> keysWithOneAwayFromMember0(String prefix, int count) {
        String member0 = uuid(members.get(0));
        // The partition table is laid out on first use; until then partitions have no owner.
        await().atMost(Duration.ofSeconds(60))
                .until(() -> members.get(0).getPartitionService().getPartition(prefix).getOwner() != null);
        List<String> keys = new ArrayList<>();
        for (int i = 0; keys.isEmpty(); i++) {
            Partition partition = members.get(0).getPartitionService().getPartition(prefix + i);
            if (!Objects.requireNonNull(partition.getOwner()).getUuid().toString().equals(member0)) {
                keys.add(prefix + i);
            }
        }
        for (int i = 0; keys.size() < count; i++) {
            keys.add(prefix + "more-" + i);
        }
        return keys;
    }

    private static String uuid(HazelcastInstance member) {
        return member.getCluster().getLocalMember().getUuid().toString();
    }

    @Test
    void locksHeldWhenAMemberDies_areStillHeldAfterwards_withTheirTokens_andWaitersStillWake() throws Exception {
        String mapName = "locks";
        LockingProvider client = client(mapName);
        LockingProvider onMember = onMember(0, mapName);
        List<String> keys = new ArrayList<>();
        Map<String, LockInfo> before = new HashMap<>();
        for (int i = 0; i < 40; i++) {
            String key = "key-" + i;
            keys.add(key);
            LockingProvider p = i % 2 == 0 ? client : onMember;
            assertThat(p.tryAcquire(List.of(key), "holder-" + (i % 4), i % 3 == 0 ? Duration.ofMinutes(5) : null))
                    .isInstanceOf(Acquired.class);
            before.put(key, p.inspect(key).orElseThrow());
        }
        // Keys that were free when the member died: released ones, and one whose lease lapsed. Their tokens live
        // in their (free or lapsed) entries, which have backups like the locks.
        Map<String, Long> freeTokens = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            String key = "free-" + i;
            keys.add(key);
            freeTokens.put(key, ((Acquired) client.tryAcquire(List.of(key), "gone", null)).fencingTokens().get(key));
            assertThat(onMember.release(List.of(key), "gone")).isTrue();
        }
        String lapsed = "lapsed";
        keys.add(lapsed);
        freeTokens.put(lapsed, ((Acquired) client.tryAcquire(List.of(lapsed), "gone", Duration.ofMillis(200)))
                .fencingTokens().get(lapsed));
        await().atMost(Duration.ofSeconds(30)).until(() -> client.inspect(lapsed).isEmpty());

        terminateAMemberOwning(keys);

        for (Map.Entry<String, Long> free : freeTokens.entrySet()) {
            String key = free.getKey();
            assertThat(client.inspect(key)).as(key).isEmpty();
            long token = ((Acquired) onMember.tryAcquire(List.of(key), "after", null)).fencingTokens().get(key);
            assertThat(token).as(key).isGreaterThan(free.getValue());
        }
        keys.removeAll(freeTokens.keySet());

        for (String key : keys) {
            assertThat(client.inspect(key)).as(key).contains(before.get(key));
            assertThat(onMember.inspect(key)).as(key).contains(before.get(key));
            assertThat(client.tryAcquire(List.of(key), "intruder", null)).isEqualTo(new Conflict(key));
        }
        // The counters survived too: a key taken again gets a higher token.
        String key = keys.get(1);
        assertThat(client.release(List.of(key), before.get(key).ownerId())).isTrue();
        long token = ((Acquired) onMember.tryAcquire(List.of(key), "next", null)).fencingTokens().get(key);
        assertThat(token).isGreaterThan(before.get(key).fencingToken());

        // Waiters on the client still wake when a key is released on a member.
        String waited = keys.get(3);
        CompletableFuture<AcquireResult> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                AcquireResult result = client.tryAcquire(List.of(waited), "waiter", null);
                while (!(result instanceof Acquired)) {
                    client.awaitRelease(List.of(waited), Duration.ofSeconds(30));
                    result = client.tryAcquire(List.of(waited), "waiter", null);
                }
                return result;
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(onMember.release(List.of(waited), before.get(waited).ownerId())).isTrue();
        assertThat(waiter.get(60, TimeUnit.SECONDS)).isInstanceOf(Acquired.class);
        assertThat(onMember.inspect(waited).orElseThrow().ownerId()).isEqualTo("waiter");
    }

    @Test
    void queuesAndGrants_surviveAMembersDeath() throws Exception {
        String mapName = "queues";
        LockingProvider client = client(mapName);
        List<String> keys = keysWithOneAwayFromMember0("queued-", 6);
        Duration lease = Duration.ofMinutes(5);
        Duration stay = Duration.ofMinutes(2);
        Map<String, Long> granted = new HashMap<>();
        for (String key : keys) {
            assertThat(client.acquireOrQueue(key, "exec:s:a-" + key, lease, stay)).isInstanceOf(Acquired.class);
            assertThat(client.acquireOrQueue(key, "exec:s:b-" + key, lease, stay)).isInstanceOf(Conflict.class);
            assertThat(client.acquireOrQueue(key, "exec:s:c-" + key, lease, stay)).isInstanceOf(Conflict.class);
            // Half the keys handed to b before the member dies: the grant's lock and the rest of the queue.
            if (granted.size() < keys.size() / 2) {
                assertThat(client.release(List.of(key), "exec:s:a-" + key)).isTrue();
                granted.put(key, client.inspect(key).orElseThrow().fencingToken());
            }
        }

        terminateAMemberOwning(keys);

        for (String key : keys) {
            Long toB = granted.get(key);
            if (toB == null) {
                assertThat(client.tryAcquire(List.of(key), "intruder", null)).as(key).isEqualTo(new Conflict(key));
                assertThat(client.release(List.of(key), "exec:s:a-" + key)).isTrue();
                assertThat(client.inspect(key).orElseThrow().ownerId()).as(key).isEqualTo("exec:s:b-" + key);
                toB = client.inspect(key).orElseThrow().fencingToken();
            } else {
                LockInfo info = client.inspect(key).orElseThrow();
                assertThat(info.ownerId()).as(key).isEqualTo("exec:s:b-" + key);
                assertThat(info.fencingToken()).as(key).isEqualTo(toB);
            }
            assertThat(client.acquireOrQueue(key, "exec:s:b-" + key, lease, stay)).as("b holds " + key)
                    .isInstanceOf(Acquired.class);
            assertThat(client.release(List.of(key), "exec:s:b-" + key)).isTrue();
            assertThat(client.inspect(key).orElseThrow().ownerId()).as("c is still queued for " + key)
                    .isEqualTo("exec:s:c-" + key);
            assertThat(client.inspect(key).orElseThrow().fencingToken()).isGreaterThan(toB);
        }
    }

    /**
     * A multi-key acquire reaches all its keys in one call, and Hazelcast gives the keys of one partition one
     * backup processor: each key's backup must still get that key's own lock, and a key the call did not
     * take (a conflict) must keep its holder's.
     */
    @Test
    void multiKeyCalls_onKeysOfOnePartition_leaveEachKeysOwnLockOnTheBackups() {
        String mapName = "multi";
        LockingProvider client = client(mapName);
        LockingProvider onMember = onMember(0, mapName);
        List<String> keys = keysInOnePartitionAwayFromMember0("multi-", 4);
        String a = keys.get(0);
        String b = keys.get(1);
        String c = keys.get(2);
        String d = keys.get(3);
        Duration lease = Duration.ofMinutes(5);
        assertThat(client.tryAcquire(List.of(b), "other", lease)).isInstanceOf(Acquired.class);
        assertThat(client.tryAcquire(List.of(a, b, c), "caller", lease)).isEqualTo(new Conflict(b));
        assertThat(onMember.tryAcquire(List.of(a, c, d), "caller2", lease)).isInstanceOf(Acquired.class);
        assertThat(client.tryAcquire(List.of(a, d), "caller2", Duration.ofMinutes(6))).isInstanceOf(Acquired.class);
        Map<String, LockInfo> before = new HashMap<>();
        for (String key : keys) {
            before.put(key, client.inspect(key).orElseThrow());
        }
        assertThat(before.values().stream().map(LockInfo::fencingToken).distinct()).hasSize(4);

        terminateAMemberOwning(keys);

        for (String key : keys) {
            assertThat(client.inspect(key)).as(key).contains(before.get(key));
        }
    }

    /** Keys named {@code prefix + i}, sorted, all in one partition that a member other than member 0 owns. */
    private List<String> keysInOnePartitionAwayFromMember0(String prefix, int count) {
        String first = keysWithOneAwayFromMember0(prefix, 1).get(0);
        int partition = members.get(0).getPartitionService().getPartition(first).getPartitionId();
        List<String> keys = new ArrayList<>(List.of(first));
        for (int i = 0; keys.size() < count; i++) {
            String key = prefix + "same-" + i;
            if (members.get(0).getPartitionService().getPartition(key).getPartitionId() == partition) {
                keys.add(key);
            }
        }
        keys.sort(null);
        return keys;
    }

    @Test
    void whileAMemberDies_noKeyEverHasTwoHolders() throws Exception {
        String mapName = "contended";
        List<LockingProvider> clients = List.of(client(mapName), client(mapName), onMember(0, mapName));
        List<String> keys = keysWithOneAwayFromMember0("hot-", 3);
        int threads = 6;
        int rounds = 40;
        Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();
        keys.forEach(k -> inside.put(k, new AtomicInteger()));
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger unavailable = new AtomicInteger();
        long[] counters = new long[keys.size()];
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                LockingProvider p = clients.get(t % clients.size());
                String owner = "thread-" + t;
                int slot = t % keys.size();
                String key = keys.get(slot);
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < rounds; i++) {
                        while (!tryOnce(p, key, owner)) {
                            waitQuietly(p, key, unavailable);
                        }
                        if (inside.get(key).incrementAndGet() > 1) {
                            overlaps.incrementAndGet();
                        }
                        counters[slot]++;
                        inside.get(key).decrementAndGet();
                        releaseSurely(p, key, owner, unavailable);
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> done.get() >= threads * rounds / 4);
            terminateAMemberOwning(keys);
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(overlaps.get()).isZero();
        assertThat(done.get()).isEqualTo(threads * rounds);
        long perKey = (long) threads / keys.size() * rounds;
        assertThat(counters).containsOnly(perKey);
    }

    /** One attempt; an attempt that fails because the member died counts as not acquired. */
    private static boolean tryOnce(LockingProvider p, String key, String owner) {
        try {
            // The lease frees a key whose acquire succeeded on the backend but was reported as failed.
            return p.tryAcquire(List.of(key), owner, Duration.ofSeconds(10)) instanceof Acquired;
        } catch (ProviderUnavailableException e) {
            return false;
        }
    }

    private static void waitQuietly(LockingProvider p, String key, AtomicInteger unavailable) {
        try {
            p.awaitRelease(List.of(key), Duration.ofSeconds(2));
        } catch (ProviderUnavailableException e) {
            unavailable.incrementAndGet();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void releaseSurely(LockingProvider p, String key, String owner, AtomicInteger unavailable) {
        while (true) {
            try {
                p.release(List.of(key), owner);
                return;
            } catch (ProviderUnavailableException e) {
                unavailable.incrementAndGet();
            }
        }
    }
}
