package dev.locking.memory;

import static dev.locking.memory.Providers.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** lp_memory's hand-off to queued owners on the paths the kit does not reach: expiry, releaseAll, the queue's size. */
class MemoryHandOffTest {
    private static final Duration LONG = Duration.ofMinutes(5);

    private final MemoryLockingProvider provider = Providers.onSystemTime(Duration.ofMillis(100));

    @AfterEach
    void close() {
        provider.close();
    }

    private Optional<String> holder(String key) {
        return provider.inspect(key).map(LockInfo::ownerId);
    }

    @Test
    void anExpiredLease_handsTheKeyToTheQueuedOwner_withoutAnyoneTouchingIt() {
        long first = token(provider.acquireOrQueue("k", "exec:a", Duration.ofMillis(200), LONG), "k");
        assertThat(provider.acquireOrQueue("k", "exec:b", LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);

        // The sweeper (every 100 ms) expires a's lease and hands the key to b in the same step.
        await().atMost(Duration.ofSeconds(20)).until(() -> provider.queuedFor("k") == 0);
        assertThat(holder("k")).hasValue("exec:b");
        assertThat(provider.inspect("k").orElseThrow().fencingToken()).isGreaterThan(first);
    }

    @Test
    void releaseAll_handsEachFreedKeyToItsQueuedOwner() {
        provider.tryAcquire(List.of("k"), "app", null);
        provider.tryAcquire(List.of("m"), "app", null);
        provider.acquireOrQueue("k", "exec:b", LONG, LONG);

        provider.releaseAll("app");
        assertThat(holder("k")).hasValue("exec:b");
        assertThat(holder("m")).isEmpty();

        provider.acquireOrQueue("k", "exec:c", LONG, LONG);
        provider.releaseAll(null);
        assertThat(holder("k")).as("queued owners are served by releaseAll(null) too").hasValue("exec:c");
    }

    @Test
    void theQueue_leavesNothingBehind() {
        provider.acquireOrQueue("k", "exec:a", LONG, LONG);
        provider.acquireOrQueue("k", "exec:b", LONG, LONG);
        provider.acquireOrQueue("k", "exec:b", LONG, LONG); // a refresh, not a second entry
        provider.acquireOrQueue("k", "exec:c", LONG, LONG);
        assertThat(provider.queuedFor("k")).isEqualTo(2);

        provider.leaveQueue("k", "exec:c");
        provider.release(List.of("k"), "exec:a");
        provider.leaveQueue("k", "exec:b");
        assertThat(provider.queuedFor("k")).isZero();
        assertThat(holder("k")).isEmpty();
        assertThat(provider.size()).isZero();
        assertThat(provider.ownerCount()).isZero();
    }
}
