package dev.locking.memory;

import static dev.locking.memory.Providers.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import dev.locking.spi.support.LockingClock;
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

    /**
     * A key released while a thread waits through awaitRelease is kept for that thread for the grace; an owner
     * that queues meanwhile finds the key free, not held. Returns once the thread was handed the key.
     */
    private static void keepForAnotherThread(MemoryLockingProvider p) throws Exception {
        p.tryAcquire(List.of("k"), "app", null);
        CompletableFuture<Void> notified = CompletableFuture.runAsync(() -> {
            try {
                p.awaitRelease(List.of("k"), Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> p.waiterCount() >= 1);
        assertThat(p.release(List.of("k"), "app")).isTrue();
        notified.get(20, TimeUnit.SECONDS);
        assertThat(p.acquireOrQueue("k", "exec:a", LONG, LONG)).as("kept for the other thread")
                .isInstanceOf(AcquireResult.Conflict.class);
    }

    @Test
    void aFreeKeyWithALiveQueueEntry_cannotBeTakenPastIt() throws Exception {
        MemoryLockingProvider p = new MemoryLockingProvider("lp_memory", LockingClock.SYSTEM, Duration.ofMillis(50),
                Providers.SLICE, Duration.ofMillis(200));
        try {
            keepForAnotherThread(p);
            // The thread never takes it: the reservation lapses and the key is free, with exec:a queued.
            await().atMost(Duration.ofSeconds(20)).until(() -> p.queueCount() == 0);
            assertThat(p.tryAcquire(List.of("k"), "other", null)).as("no barging past exec:a")
                    .isInstanceOf(AcquireResult.Conflict.class);
            assertThat(p.tryAcquire(List.of("k", "m"), "other", null)).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(p.inspect("k")).isEmpty();
            assertThat(p.inspect("m")).isEmpty();
            token(p.acquireOrQueue("k", "exec:a", LONG, LONG), "k");
        } finally {
            p.close();
        }
    }

    @Test
    void awaitGrant_onAKeyKeptForAnotherThread_sleeps_insteadOfReturningAtOnce() throws Exception {
        MemoryLockingProvider p = new MemoryLockingProvider("lp_memory", LockingClock.SYSTEM, Duration.ofMillis(50),
                Providers.SLICE, LONG);
        try {
            keepForAnotherThread(p);
            long start = System.nanoTime();
            assertThat(p.awaitGrant("k", "exec:a", Duration.ofMillis(800))).isNull();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("a null at once sends the caller to spin")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(700));
        } finally {
            p.close();
        }
    }
}
