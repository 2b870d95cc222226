package dev.locking.hazelcast;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.LocalMapStats;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * By hand, not part of the suite: what a million unique keys, each taken and released once, leave in the
 * member. Run its {@code main} on the module's test class path (after {@code test-compile}), optionally
 * with {@code -Dlocking.measure.keys=N}; it prints lines starting with {@code MEASURE}.
 * One member with Hazelcast's default 271 partitions and one backup count (no second member, so no backup
 * copies); the provider runs on the member itself.
 */
final class MemoryFootprintMeasurement {

    private static final int THREADS = 4;

    private MemoryFootprintMeasurement() {}

    public static void main(String[] args) throws Exception {
        int keys = Integer.getInteger("locking.measure.keys", 1_000_000);
        String cluster = TestMembers.clusterName("memory");
        Config config = TestMembers.memberConfig(cluster, TestMembers.freePort(), List.of());
        config.getProperties().remove("hazelcast.partition.count");
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
        String mapName = "measure";
        try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", member, mapName)) {
            IMap<String, Object> map = member.getMap(mapName);
            report("before", map, 0);
            long start = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int first = t;
                done.add(pool.submit(() -> {
                    for (int i = first; i < keys; i += THREADS) {
                        String key = "order-" + i;
                        provider.tryAcquire(List.of(key), "owner-" + first, Duration.ofSeconds(30));
                        provider.release(List.of(key), "owner-" + first);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            long took = System.nanoTime() - start;
            System.out.printf("MEASURE %,d keys taken and released in %.1f s%n", keys, took / 1e9);
            report("right after the last release", map, 0);
            long released = System.nanoTime();
            long deadline = released + Duration.ofMinutes(5).toNanos();
            long seconds = 0;
            while (map.size() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(1000);
                if (++seconds % 10 == 0) {
                    System.out.printf("MEASURE   %d s later: %,d entries%n", seconds, map.size());
                }
            }
            report("after waiting", map, System.nanoTime() - released);
        } finally {
            member.shutdown();
        }
        System.exit(0);
    }

    private static void report(String when, IMap<String, Object> map, long waitedNanos) {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        LocalMapStats stats = map.getLocalMapStats();
        System.out.printf("MEASURE %s (%.1f s): map size %,d, owned entries %,d, owned entry memory %,d bytes,"
                + " JVM heap used after GC %,d MB%n", when, waitedNanos / 1e9, map.size(), stats.getOwnedEntryCount(),
                stats.getOwnedEntryMemoryCost(), (rt.totalMemory() - rt.freeMemory()) >> 20);
    }
}
