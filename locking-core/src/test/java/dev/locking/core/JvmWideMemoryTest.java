package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockingService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** lp_memory is one lock table per instance id for the whole JVM: two services of one JVM exclude each other. */
class JvmWideMemoryTest {

    @Test
    void aLockTakenThroughOneService_blocksTheOther() {
        try (LockingService first = Locking.builder().defaultProvider("lp_memory").build();
                LockingService second = Locking.builder().defaultProvider("lp_memory").build()) {
            first.acquire("jvm-wide:a", AcquireOptions.builder().ownerId("alice").build());
            try {
                assertThatThrownBy(() -> second.acquire("jvm-wide:a", AcquireOptions.builder().ownerId("bob").build()))
                        .isInstanceOf(LockAcquisitionException.class);
                assertThat(second.inspect("jvm-wide:a")).isPresent();
            } finally {
                first.releaseAll();
            }
        }
    }

    @Test
    void executeCallsOfTwoServices_neverOverlap_andAWaiterWakesOnTheOthersRelease() throws Exception {
        try (LockingService first = Locking.builder().defaultProvider("lp_memory").build();
                LockingService second = Locking.builder().defaultProvider("lp_memory").build()) {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            CountDownLatch firstHolds = new CountDownLatch(1);
            CountDownLatch letGo = new CountDownLatch(1);
            ExecuteOptions options = ExecuteOptions.builder().timeout(Duration.ofSeconds(20)).build();
            CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> first.execute("jvm-wide:b", lock -> {
                if (inside.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                firstHolds.countDown();
                awaitQuietly(letGo);
                inside.decrementAndGet();
                return null;
            }, options));
            assertThat(firstHolds.await(20, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> second.execute("jvm-wide:b", lock -> {
                if (inside.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                inside.decrementAndGet();
                return null;
            }, options));
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiter.isDone());
            letGo.countDown();
            holder.get(20, TimeUnit.SECONDS);
            waiter.get(20, TimeUnit.SECONDS);
            assertThat(overlaps).hasValue(0);
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
