package dev.locking.redis;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * What a Redis server keeps after many unique keys were locked and released, measured by hand (not part of
 * the suite): a fresh {@code redis-server}, then {@code -Dfootprint.keys} (say 1000000) unique keys each taken
 * by a fresh owner with a 30 s lease and released, as {@code execute} does, from 16 threads. Prints
 * {@code DBSIZE} and {@code used_memory} before, right after, and once the server's keys stop shrinking, and the
 * scripts' server time per call ({@code INFO commandstats}).
 *
 * {@snippet lang=bash :
 * ./mvnw -q -pl provider-redis -am verify -Dtest=RedisFootprintManualTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dfootprint.keys=1000000
 * }
 */
@EnabledIfSystemProperty(named = "footprint.keys", matches = "\\d+")
class RedisFootprintManualTest {
    private static final int THREADS = 16;

    @Test
    void uniqueKeysTakenAndReleased() throws Exception {
        int keys = Integer.parseInt(System.getProperty("footprint.keys"));
        try (RedisProcess server = RedisProcess.start(); RespClient admin = server.admin()) {
            LockingProvider provider = new RedisProviderFactory().create(TestConfig.of("lp_redis", "address",
                    server.address()));
            provider.tryAcquire(List.of("warm-up"), "warm-up", null);
            provider.release(List.of("warm-up"), "warm-up");
            admin.call("FLUSHALL");
            admin.call("CONFIG", "RESETSTAT");
            report(admin, "before");
            AtomicLong next = new AtomicLong();
            long start = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                futures.add(pool.submit(() -> {
                    for (long i = next.getAndIncrement(); i < keys; i = next.getAndIncrement()) {
                        String key = "order-" + i;
                        String owner = UUID.randomUUID().toString();
                        AcquireResult r = provider.tryAcquire(List.of(key), owner, Duration.ofSeconds(30));
                        if (!(r instanceof AcquireResult.Acquired)) {
                            throw new IllegalStateException("not acquired: " + key);
                        }
                        provider.release(List.of(key), owner);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            pool.shutdown();
            System.out.printf("footprint: %d keys taken and released in %.1f s%n", keys,
                    (System.nanoTime() - start) / 1e9);
            report(admin, "right after");
            for (String line : admin.string("INFO", "commandstats").split("\r\n", -1)) {
                if (line.startsWith("cmdstat_evalsha:")) {
                    System.out.println("footprint server time of the scripts: " + line);
                }
            }
            long last = -1;
            Instant until = Instant.now().plusSeconds(60);
            while (Instant.now().isBefore(until)) {
                Thread.sleep(5000);
                long size = admin.number("DBSIZE");
                if (size == last || size == 0) {
                    break;
                }
                last = size;
            }
            report(admin, "settled");
            provider.close();
        }
    }

    private static void report(RespClient admin, String when) {
        System.out.printf("footprint %s: DBSIZE %d, used_memory %s B (%s)%n", when, admin.number("DBSIZE"),
                admin.info("memory", "used_memory"), admin.info("memory", "used_memory_human"));
    }
}
