package dev.locking.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class KeyWaitersTest {

    private static final Duration LONG = Duration.ofMinutes(1);

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void sleepAfterLook_sleepsOnlyWhenHeld_atMostTheSlice_andNotOnceClosed() throws Exception {
        KeyWaiters waiters = new KeyWaiters(LONG);
        try (KeyWaiters.Waiter waiter = waiters.register(List.of("a"))) {
            long start = System.nanoTime();
            waiter.sleepAfterLook(false, LONG.toNanos(), start, LONG, () -> false);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            start = System.nanoTime();
            waiter.sleepAfterLook(true, Duration.ofMillis(100).toNanos(), start, LONG, () -> false);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(90), Duration.ofSeconds(10));
            start = System.nanoTime();
            waiter.sleepAfterLook(true, LONG.toNanos(), start, LONG, () -> true);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void aWakeUpBeforeTheSleepIsKept() throws Exception {
        KeyWaiters waiters = new KeyWaiters(LONG);
        try (KeyWaiters.Waiter waiter = waiters.register(List.of("a"))) {
            assertThat(waiters.wakeFirst("a")).isTrue();
            long start = System.nanoTime();
            assertThat(waiter.await(LONG)).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
        assertThat(waiters.waitingKeys()).isZero();
    }

    @Test
    void wakeFirstWakesTheLongestWaiterOnly_andAnUnusedWakeUpPassesOn() throws Exception {
        KeyWaiters waiters = new KeyWaiters(LONG);
        KeyWaiters.Waiter first = waiters.register(List.of("k"));
        KeyWaiters.Waiter second = waiters.register(List.of("k", "other"));
        waiters.wakeFirst("k");
        assertThat(first.isWoken()).isTrue();
        assertThat(second.isWoken()).isFalse();
        first.close(); // leaves without trying: the next one is woken instead
        assertThat(second.isWoken()).isTrue();
        second.used();
        second.close();
        assertThat(waiters.waitingKeys()).isZero();
    }

    @Test
    void aUsedWakeUpIsNotPassedOn() {
        KeyWaiters waiters = new KeyWaiters(LONG);
        KeyWaiters.Waiter first = waiters.register(List.of("k"));
        KeyWaiters.Waiter second = waiters.register(List.of("k"));
        waiters.wakeFirst("k");
        first.used();
        first.close();
        assertThat(second.isWoken()).isFalse();
        assertThat(waiters.wakeFirst("k")).isTrue();
        assertThat(second.isWoken()).isTrue();
        second.close();
        assertThat(waiters.wakeFirst("k")).isFalse();
    }

    @Test
    void aSleepingWaiterIsWokenByAnotherThread() throws Exception {
        KeyWaiters waiters = new KeyWaiters(LONG);
        Future<Boolean> woken = threads.submit(() -> {
            try (KeyWaiters.Waiter w = waiters.register(List.of("x", "y"))) {
                return w.await(LONG);
            }
        });
        await().atMost(Duration.ofSeconds(20)).until(() -> waiters.sleepingWaiters() == 1);
        waiters.wakeAll("y");
        assertThat(woken.get(20, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> waiters.waitingKeys() == 0);
    }

    @Test
    void theSliceBoundsTheSleep_whateverTheCallerMayWait() throws Exception {
        KeyWaiters waiters = new KeyWaiters(Duration.ofMillis(50));
        try (KeyWaiters.Waiter waiter = waiters.register(List.of("k"))) {
            long start = System.nanoTime();
            assertThat(waiter.await(LONG)).isFalse();
            long took = System.nanoTime() - start;
            assertThat(took).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(50));
            assertThat(Duration.ofNanos(took)).isLessThan(Duration.ofSeconds(20));
        }
    }

    @Test
    void anInterruptEndsTheSleep_andNobodyStaysRegistered() throws Exception {
        KeyWaiters waiters = new KeyWaiters(LONG);
        CountDownLatch registered = new CountDownLatch(1);
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (KeyWaiters.Waiter w = waiters.register(List.of("k"))) {
                registered.countDown();
                w.await(LONG);
                ended.complete(null);
            } catch (Throwable e) {
                ended.complete(e);
            }
        });
        t.start();
        registered.await();
        await().atMost(Duration.ofSeconds(20)).until(() -> waiters.sleepingWaiters() == 1);
        t.interrupt();
        assertThat(ended.get(20, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(waiters.waitingKeys()).isZero();
    }

    @Test
    void wakeEveryoneWakesAllKeys() throws Exception {
        KeyWaiters waiters = new KeyWaiters(LONG);
        KeyWaiters.Waiter a = waiters.register(List.of("a"));
        KeyWaiters.Waiter b = waiters.register(List.of("b"));
        assertThat(waiters.isWaitedFor("a")).isTrue();
        assertThat(waiters.isWaitedFor("c")).isFalse();
        waiters.wakeEveryone();
        assertThat(a.await(LONG)).isTrue();
        assertThat(b.await(LONG)).isTrue();
        a.close();
        b.close();
        assertThat(waiters.isWaitedFor("a")).isFalse();
    }

    @Test
    void wakeNextSaysWhichThreadItWoke() throws Exception {
        KeyWaiters waiters = new KeyWaiters(LONG);
        CountDownLatch registered = new CountDownLatch(1);
        CompletableFuture<Thread> self = new CompletableFuture<>();
        Future<Boolean> woken = threads.submit(() -> {
            try (KeyWaiters.Waiter w = waiters.register(List.of("k"))) {
                self.complete(Thread.currentThread());
                registered.countDown();
                return w.await(LONG);
            }
        });
        registered.await();
        assertThat(waiters.wakeNext("k")).isSameAs(self.get());
        assertThat(woken.get(20, TimeUnit.SECONDS)).isTrue();
        assertThat(waiters.wakeNext("k")).isNull();
    }

    @Test
    void aSliceMustBePositive() {
        assertThatThrownBy(() -> new KeyWaiters(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slice");
    }
}
