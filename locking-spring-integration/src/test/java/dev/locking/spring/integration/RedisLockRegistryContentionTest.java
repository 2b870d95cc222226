package dev.locking.spring.integration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import dev.locking.redis.RedisServer;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The registry on a real Redis server, through two services with a client each (as two JVMs would have): their
 * locks exclude each other only through Redis.
 */
@SuppressWarnings("LockNotBeforeTry") // the test looks at the lock between its calls
class RedisLockRegistryContentionTest {
    @RegisterExtension
    static final RedisServer REDIS = RedisServer.shared();
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private final String prefix = "registry-test-" + PREFIXES.incrementAndGet() + ":";
    private final LockingService first = service();
    private final LockingService second = service();
    private final LockingLockRegistry one = LockingLockRegistry.builder(first).provider("lp_redis").build();
    private final LockingLockRegistry two = LockingLockRegistry.builder(second).provider("lp_redis").build();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    private LockingService service() {
        return Locking.builder().provider(REDIS.provider("lp_redis", "keyPrefix", prefix)).build();
    }

    @AfterEach
    void close() {
        threads.shutdownNow();
        one.close();
        two.close();
        first.close();
        second.close();
    }

    @Test
    void twoClientsOnOneServer_excludeEachOther_withAnExactCountAndNoOverlap() throws Exception {
        Contention result = Contention.run(threads, List.of(one, two), "stock", 6, 50);
        assertThat(result.overlaps()).isZero();
        assertThat(result.counter()).isEqualTo(6 * 50);
        assertThat(first.inspect("stock", "lp_redis")).isEmpty();
    }

    @Test
    void aKeyHeldThroughOneClient_isRefusedThroughTheOther_untilReleased_andTheTokenGrows() throws Exception {
        LockingLock held = one.obtain("order:1");
        held.lock();
        long token = held.fencingToken().orElseThrow();
        LockingLock other = two.obtain("order:1");
        assertThat(other.tryLock(100, TimeUnit.MILLISECONDS)).isFalse();
        held.unlock();
        assertThat(other.tryLock(10, TimeUnit.SECONDS)).isTrue();
        assertThat(other.fencingToken().orElseThrow()).isGreaterThan(token);
        other.unlock();
    }
}
