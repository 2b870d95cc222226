package dev.locking.memory;

import static dev.locking.memory.Providers.acquireWaiting;
import static dev.locking.memory.Providers.acquired;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Real threads against one provider: exclusion, deadlock freedom, FIFO wake-ups, the hand-off of a freed key to
 * its first waiter, release and expiry wake-ups.
 */
class MemoryLockingProviderConcurrencyTest {

    private static final Duration DAY = Duration.ofDays(1);
    private static final long TIMEOUT_SECONDS = 60;

    private final ExecutorService pool = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "test-worker");
        thread.setDaemon(true);
        return thread;
    });
    private final List<MemoryLockingProvider> providers = new ArrayList<>();

    @AfterEach
    void cleanUp() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        providers.forEach(MemoryLockingProvider::close);
    }

    private MemoryLockingProvider track(MemoryLockingProvider provider) {
        providers.add(provider);
        return provider;
    }

    private <T> Future<T> inThread(Callable<T> task) {
        return pool.submit(task);
    }

    private static <T> T result(Future<T> future) throws Exception {
        return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    private static void awaitWaiters(MemoryLockingProvider provider, int count) {
        await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> provider.waiterCount() == count);
    }

    @Nested
    class MutualExclusion {

        @Test
        void eightThreadsRacingForAFreeKey_haveExactlyOneWinner() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            for (int round = 0; round < 200; round++) {
                String key = "race-" + round;
                CyclicBarrier start = new CyclicBarrier(8);
                List<Future<AcquireResult>> attempts = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    String owner = t % 2 == 0 ? "thread-" + t : null;
                    attempts.add(inThread(() -> {
                        start.await();
                        return provider.tryAcquire(List.of(key), owner, null);
                    }));
                }
                int winners = 0;
                for (Future<AcquireResult> attempt : attempts) {
                    if (result(attempt) instanceof AcquireResult.Acquired) {
                        winners++;
                    }
                }
                assertThat(winners).as("winners of round %d", round).isEqualTo(1);
                assertThat(provider.inspect(key)).isPresent();
            }
        }

        @Test
        void eightThreadsLoopingOnOneKey_neverOverlap_andLoseNoIncrement() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofMillis(200)));
            int threads = 8;
            int rounds = 1_000;
            int[] counter = {0}; // deliberately unsynchronised: the lock must order the increments
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger failedReleases = new AtomicInteger();
            List<String> key = List.of("counter");
            List<Future<Void>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String owner = t % 2 == 0 ? "thread-" + t : null;
                Duration lease = t % 4 == 0 ? Duration.ofSeconds(30) : null;
                boolean spinning = t % 3 == 0; // some retry at once instead of waiting: more races
                workers.add(inThread(() -> {
                    for (int i = 0; i < rounds; i++) {
                        if (spinning) {
                            while (!(provider.tryAcquire(key, owner, lease) instanceof AcquireResult.Acquired)) {
                                Thread.onSpinWait();
                            }
                        } else {
                            acquireWaiting(provider, key, owner, lease, Duration.ofMillis(500));
                        }
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        counter[0]++;
                        spin(Duration.ofNanos(1_000));
                        inside.decrementAndGet();
                        if (!provider.release(key, owner)) {
                            failedReleases.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<Void> worker : workers) {
                result(worker);
            }

            assertThat(overlaps).hasValue(0);
            assertThat(failedReleases).hasValue(0);
            assertThat(counter[0]).isEqualTo(threads * rounds);
            assertThat(provider.size()).isZero();
            assertThat(provider.queueCount()).isZero();
            assertThat(provider.ownerCount()).isZero();
        }

        @Test
        void overlappingKeyPairs_takenConcurrently_neitherDeadlockNorOverlap() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            List<List<String>> pairs = List.of(List.of("a", "b"), List.of("b", "c"), List.of("a", "c"));
            Map<String, AtomicInteger> inside =
                    Map.of("a", new AtomicInteger(), "b", new AtomicInteger(), "c", new AtomicInteger());
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger failedReleases = new AtomicInteger();
            Map<String, int[]> counts = Map.of("a", new int[1], "b", new int[1], "c", new int[1]);
            int rounds = 3_000;
            List<Future<Void>> workers = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                List<String> keys = pairs.get(t % 3);
                String owner = "thread-" + t;
                boolean spinning = t >= 3; // half of them retry at once instead of waiting: more races
                workers.add(inThread(() -> {
                    for (int i = 0; i < rounds; i++) {
                        if (spinning) {
                            while (!(provider.tryAcquire(keys, owner, null) instanceof AcquireResult.Acquired)) {
                                Thread.onSpinWait();
                            }
                        } else {
                            acquireWaiting(provider, keys, owner, null, Duration.ofMillis(500));
                        }
                        for (String key : keys) {
                            if (inside.get(key).incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            counts.get(key)[0]++;
                        }
                        spin(Duration.ofNanos(2_000));
                        for (String key : keys) {
                            inside.get(key).decrementAndGet();
                        }
                        if (!provider.release(keys, owner)) {
                            failedReleases.incrementAndGet(); // someone else took one of our keys
                        }
                    }
                    return null;
                }));
            }
            for (Future<Void> worker : workers) {
                result(worker); // a deadlock shows up as a TimeoutException here
            }

            assertThat(overlaps).hasValue(0);
            assertThat(failedReleases).hasValue(0);
            for (String key : List.of("a", "b", "c")) {
                assertThat(counts.get(key)[0]).as("acquisitions of %s", key).isEqualTo(4 * rounds);
            }
            assertThat(provider.size()).isZero();
            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void releaseAllOfAnOwner_racingWithThatOwnersAcquires_leavesTheIndexConsistent() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            AtomicBoolean stop = new AtomicBoolean();
            List<Future<Void>> takers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int offset = t;
                takers.add(inThread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        provider.tryAcquire(List.of("k-" + offset + "-" + (i % 5_000)), "owner", null);
                    }
                    return null;
                }));
            }
            for (int i = 0; i < 50; i++) {
                provider.releaseAll("owner");
            }
            stop.set(true);
            for (Future<Void> taker : takers) {
                result(taker);
            }

            provider.releaseAll("owner");

            assertThat(provider.size()).isZero();
            assertThat(provider.ownerCount()).isZero();
        }
    }

    @Nested
    class Waiting {

        @Test
        void waiters_areWokenInTheOrderTheyCameIn() throws Exception {
            // A slice of a day, so that a slow machine cannot make a waiter look again by itself and overtake.
            MemoryLockingProvider provider =
                    track(new MemoryLockingProvider("lp_memory", LockingClock.SYSTEM, Duration.ofHours(1), DAY));
            List<String> key = List.of("fifo");
            acquired(provider.tryAcquire(key, "holder", null));
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            List<Future<Void>> waiters = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                int number = i;
                waiters.add(inThread(() -> {
                    acquireWaiting(provider, key, "waiter-" + number, null, DAY);
                    order.add(number);
                    provider.release(key, "waiter-" + number);
                    return null;
                }));
                awaitWaiters(provider, i);
            }

            provider.release(key, "holder");
            for (Future<Void> waiter : waiters) {
                result(waiter);
            }

            assertThat(order).containsExactly(1, 2, 3, 4, 5);
            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void aWaiter_isNotStarvedByAThreadThatReleasesAndRetakesInALoop() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            List<String> key = List.of("contended");
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong bargerRounds = new AtomicLong();
            // Two threads that spin on tryAcquire, hold the key for a millisecond, release, and retry at once.
            List<Future<Void>> bargers = new ArrayList<>();
            for (int b = 0; b < 2; b++) {
                String owner = "barger-" + b;
                bargers.add(inThread(() -> {
                    while (!stop.get()) {
                        if (provider.tryAcquire(key, owner, null) instanceof AcquireResult.Acquired) {
                            spin(Duration.ofMillis(1));
                            provider.release(key, owner);
                            bargerRounds.incrementAndGet();
                        } else {
                            Thread.onSpinWait();
                        }
                    }
                    return null;
                }));
            }

            // Each time, the bargers are looping when the waiter arrives. Without the hand-off a barger
            // retakes the key before the woken waiter runs, round after round.
            Future<Long> waiter = inThread(() -> {
                long worst = 0;
                for (int i = 0; i < 20; i++) {
                    long target = bargerRounds.get() + 2;
                    await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> bargerRounds.get() >= target);
                    long before = bargerRounds.get();
                    acquireWaiting(provider, key, "waiter", null, Duration.ofMillis(500));
                    worst = Math.max(worst, bargerRounds.get() - before);
                    provider.release(key, "waiter");
                }
                return worst;
            });

            long worst;
            try {
                worst = result(waiter);
            } finally {
                stop.set(true);
            }
            for (Future<Void> barger : bargers) {
                result(barger);
            }
            assertThat(worst).as("rounds the bargers completed while the waiter waited for one").isLessThanOrEqualTo(15);
        }

        @Test
        void awaitRelease_returnsAtOnce_whenEveryKeyIsFree() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));

            result(inThread(() -> {
                provider.awaitRelease(List.of("a", "b"), DAY);
                return null;
            }));

            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void awaitRelease_givesUpAfterMaxWait_andLeavesNoWaiterBehind() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            acquired(provider.tryAcquire(List.of("a"), "holder", null));

            provider.awaitRelease(List.of("a"), Duration.ofMillis(20));

            assertThat(provider.inspect("a")).isPresent();
            assertThat(provider.queueCount()).isZero();
            assertThat(provider.waiterCount()).isZero();
        }

        @Test
        void awaitRelease_wakesWhenTheLeaseOfTheHeldKeyRunsOut_withoutTheSweeper() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            acquired(provider.tryAcquire(List.of("a"), "holder", Duration.ofMillis(200)));

            AcquireResult afterWait = result(inThread(() -> {
                provider.awaitRelease(List.of("a"), DAY);
                return provider.tryAcquire(List.of("a"), "waiter", null);
            }));

            assertThat(acquired(afterWait).fencingTokens()).containsKey("a");
        }

        @Test
        void awaitRelease_wakesEarlier_whenTheHolderShortensItsLease() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            acquired(provider.tryAcquire(List.of("a"), "holder", DAY));
            Future<AcquireResult> waiter = inThread(() -> {
                provider.awaitRelease(List.of("a"), DAY);
                return provider.tryAcquire(List.of("a"), "waiter", null);
            });
            awaitWaiters(provider, 1);

            assertThat(provider.extend(List.of("a"), "holder", Duration.ofMillis(100))).isTrue();

            acquired(result(waiter));
        }

        @Test
        void interruptDuringAwaitRelease_throwsInterruptedException_andLeavesTheQueue() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            acquired(provider.tryAcquire(List.of("a"), "holder", null));
            AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    provider.awaitRelease(List.of("a"), DAY);
                } catch (InterruptedException | RuntimeException e) {
                    failure.set(e);
                }
            }, "interrupted-waiter");
            waiter.start();
            awaitWaiters(provider, 1);

            waiter.interrupt();
            waiter.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));

            assertThat(waiter.isAlive()).isFalse();
            assertThat(failure.get()).isInstanceOf(InterruptedException.class);
            assertThat(provider.waiterCount()).isZero();
            assertThat(provider.queueCount()).isZero();
            assertThat(provider.inspect("a")).isPresent();
        }

        @Test
        void awaitRelease_onAnAlreadyInterruptedThread_throwsAtOnce() {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            acquired(provider.tryAcquire(List.of("a"), "holder", null));

            Thread.currentThread().interrupt();
            try {
                assertThatThrownBy(() -> provider.awaitRelease(List.of("a"), DAY))
                        .isInstanceOf(InterruptedException.class);
            } finally {
                Thread.interrupted();
            }
            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void close_wakesEveryWaiter() throws Exception {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofHours(1)));
            acquired(provider.tryAcquire(List.of("a"), "holder", null));
            Future<Void> waiter = inThread(() -> {
                provider.awaitRelease(List.of("a"), DAY);
                return null;
            });
            awaitWaiters(provider, 1);

            provider.close();

            result(waiter);
        }
    }

    /** The hand-off to the first waiter, on a fake clock so that the grace period is under test control. */
    @Nested
    class Reservation {

        private final FakeTime time = new FakeTime();
        private final MemoryLockingProvider provider = track(Providers.onFakeTime(time));
        private final List<String> key = List.of("k");

        @Test
        void releasedKey_isHeldBackForTheFirstWaiter_untilItsThreadTakesIt() throws Exception {
            acquired(provider.tryAcquire(key, "holder", null));
            CountDownLatch woke = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            Future<AcquireResult> waiter = inThread(() -> {
                provider.awaitRelease(key, DAY);
                woke.countDown();
                go.await();
                return provider.tryAcquire(key, "waiter", null);
            });
            awaitWaiters(provider, 1);

            provider.release(key, "holder");
            assertThat(woke.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();

            assertThat(provider.tryAcquire(key, "barger", null)).isEqualTo(new AcquireResult.Conflict("k"));
            assertThat(provider.tryAcquire(key, null, null)).isEqualTo(new AcquireResult.Conflict("k"));
            assertThat(provider.inspect("k")).isEmpty();
            go.countDown();
            acquired(result(waiter));
            assertThat(provider.inspect("k").orElseThrow().ownerId()).isEqualTo("waiter");
            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void reservation_lapsesAfterTheGrace_whenNobodyElseWaits() throws Exception {
            acquired(provider.tryAcquire(key, "holder", null));
            CountDownLatch woke = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            Future<AcquireResult> waiter = inThread(() -> {
                provider.awaitRelease(key, DAY);
                woke.countDown();
                go.await();
                return provider.tryAcquire(key, "waiter", null);
            });
            awaitWaiters(provider, 1);
            provider.release(key, "holder");
            assertThat(woke.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();

            time.advance(Providers.GRACE);

            acquired(provider.tryAcquire(key, "barger", null));
            go.countDown();
            assertThat(result(waiter)).isEqualTo(new AcquireResult.Conflict("k"));
        }

        @Test
        void lapsedReservation_passesToTheNextWaiter() throws Exception {
            acquired(provider.tryAcquire(key, "holder", null));
            CountDownLatch go = new CountDownLatch(1);
            Future<AcquireResult> first = inThread(() -> {
                provider.awaitRelease(key, DAY);
                go.await();
                return provider.tryAcquire(key, "first", null);
            });
            awaitWaiters(provider, 1);
            Future<AcquireResult> second = inThread(() -> {
                provider.awaitRelease(key, DAY);
                return provider.tryAcquire(key, "second", null);
            });
            awaitWaiters(provider, 2);

            provider.release(key, "holder");
            awaitWaiters(provider, 1); // the first left the line with the reservation
            time.advance(Providers.GRACE);

            acquired(result(second));
            go.countDown();
            assertThat(result(first)).isEqualTo(new AcquireResult.Conflict("k"));
        }
    }

    /**
     * Who a release wakes. A slice of a day, so that a waiter wakes only when the table wakes it (never by
     * looking again after a slice), on a fake clock so that no lease runs out by itself.
     */
    @Nested
    class WakeUps {

        private final FakeTime time = new FakeTime();
        private final MemoryLockingProvider provider =
                track(new MemoryLockingProvider("lp_memory", time, Duration.ofHours(1), DAY));
        private final List<String> key = List.of("k");

        @Test
        void wokenThread_failingOnAnotherKey_passesItsWakeUpOn() throws Exception {
            acquired(provider.tryAcquire(List.of("a"), "blocker", null));
            acquired(provider.tryAcquire(List.of("b"), "holder", null));
            Future<AcquireResult> first = inThread(() -> {
                provider.awaitRelease(List.of("b"), DAY);
                return provider.tryAcquire(List.of("a", "b"), "first", null);
            });
            awaitWaiters(provider, 1);
            Future<AcquireResult> second = inThread(() -> {
                provider.awaitRelease(List.of("b"), DAY);
                return provider.tryAcquire(List.of("b"), "second", null);
            });
            awaitWaiters(provider, 2);

            provider.release(List.of("b"), "holder");

            assertThat(result(first)).isEqualTo(new AcquireResult.Conflict("a"));
            acquired(result(second));
            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void interruptedWaiter_givesUpItsPlaceInLine() throws Exception {
            acquired(provider.tryAcquire(key, "holder", null));
            AtomicReference<@Nullable Throwable> failure = new AtomicReference<>();
            Thread first = new Thread(() -> {
                try {
                    provider.awaitRelease(key, DAY);
                } catch (InterruptedException | RuntimeException e) {
                    failure.set(e);
                }
            }, "first-waiter");
            first.start();
            awaitWaiters(provider, 1);
            CountDownLatch woke = new CountDownLatch(1);
            Future<AcquireResult> second = inThread(() -> {
                provider.awaitRelease(key, DAY);
                woke.countDown();
                return provider.tryAcquire(key, "second", null);
            });
            awaitWaiters(provider, 2);

            first.interrupt();
            first.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            assertThat(failure.get()).isInstanceOf(InterruptedException.class);
            assertThat(provider.waiterCount()).isEqualTo(1);
            provider.release(key, "holder");

            acquired(result(second));
            assertThat(woke.getCount()).isZero();
        }

        @Test
        void waiterOnSeveralKeys_isWokenByTheFirstOneReleased() throws Exception {
            acquired(provider.tryAcquire(List.of("a"), "x", null));
            acquired(provider.tryAcquire(List.of("b"), "y", null));
            Future<AcquireResult> waiter = inThread(() -> {
                provider.awaitRelease(List.of("a", "b"), DAY);
                return provider.tryAcquire(List.of("b"), "waiter", null);
            });
            awaitWaiters(provider, 2); // queued on both keys

            provider.release(List.of("b"), "y");

            acquired(result(waiter));
            assertThat(provider.waiterCount()).isZero();
            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void everyPathThatFreesAKey_wakesItsWaiter() throws Exception {
            List<Runnable> frees = List.of(
                    () -> provider.releaseAll("holder"),
                    () -> provider.releaseAll(null),
                    () -> {
                        time.advance(Duration.ofMinutes(2)); // the lease lapses; a look at the key frees it
                        assertThat(provider.inspect("k")).isEmpty();
                    });
            for (Runnable free : frees) {
                acquired(provider.tryAcquire(key, "holder", Duration.ofMinutes(1)));
                Future<AcquireResult> waiter = inThread(() -> {
                    provider.awaitRelease(key, DAY);
                    return provider.tryAcquire(key, "waiter", null);
                });
                awaitWaiters(provider, 1);

                free.run();

                acquired(result(waiter));
                assertThat(provider.release(key, "waiter")).isTrue();
            }
        }
    }

    @Nested
    class Sweeper {

        @Test
        void sweeper_removesExpiredRecords_andWakesTheirWaiters() throws Exception {
            FakeTime time = new FakeTime();
            MemoryLockingProvider provider = track(
                    new MemoryLockingProvider("lp_memory", time, Duration.ofMillis(20), Providers.SLICE));
            for (int i = 0; i < 100; i++) {
                acquired(provider.tryAcquire(List.of("other-" + i), "owner-" + (i % 10), Duration.ofHours(1)));
            }
            acquired(provider.tryAcquire(List.of("k"), "holder", Duration.ofHours(1)));
            // The waiter's own wake-up (at the lease's end) is an hour of real time away: only the
            // sweeper can wake it.
            Future<AcquireResult> waiter = inThread(() -> {
                provider.awaitRelease(List.of("k"), DAY);
                return provider.tryAcquire(List.of("k"), "waiter", null);
            });
            awaitWaiters(provider, 1);

            time.advance(Duration.ofHours(2));

            acquired(result(waiter));
            await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> provider.size() == 1);
            assertThat(provider.ownerCount()).isEqualTo(1);
            assertThat(provider.queueCount()).isZero();
        }

        @Test
        void sweeper_endsAReservationNobodyUsed() throws Exception {
            FakeTime time = new FakeTime();
            MemoryLockingProvider provider = track(
                    new MemoryLockingProvider("lp_memory", time, Duration.ofMillis(20), Providers.SLICE));
            acquired(provider.tryAcquire(List.of("k"), "holder", Duration.ofHours(1)));
            Future<Void> waiter = inThread(() -> {
                provider.awaitRelease(List.of("k"), DAY);
                return null; // and never comes back for the key
            });
            awaitWaiters(provider, 1);
            provider.release(List.of("k"), "holder");
            result(waiter);
            assertThat(provider.queueCount()).isEqualTo(1);

            time.advance(Providers.GRACE);

            await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> provider.queueCount() == 0);
            acquired(provider.tryAcquire(List.of("k"), "someone", null));
        }

        @Test
        void sweeper_startsWithTheFirstLease_andStopsOnClose() {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofMillis(50)));
            acquired(provider.tryAcquire(List.of("a"), "x", null));
            assertThat(provider.sweeperThread()).isNull();

            acquired(provider.tryAcquire(List.of("b"), "x", Duration.ofMinutes(1)));
            Thread sweeper = provider.sweeperThread();
            assertThat(sweeper).isNotNull();
            assertThat(sweeper.isDaemon()).isTrue();
            assertThat(sweeper.isAlive()).isTrue();

            provider.close();

            await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> !sweeper.isAlive());
        }

        @Test
        void sweeper_ofAProviderDroppedWithoutClose_ends() {
            Thread sweeper = sweeperOfADroppedProvider();

            await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> {
                System.gc();
                return !sweeper.isAlive();
            });
        }

        private Thread sweeperOfADroppedProvider() {
            MemoryLockingProvider provider = Providers.onSystemTime(Duration.ofMillis(10));
            acquired(provider.tryAcquire(List.of("a"), "x", Duration.ofMinutes(1)));
            Thread sweeper = provider.sweeperThread();
            assertThat(sweeper).isNotNull();
            return sweeper;
        }

        @Test
        void sweeper_onTheSystemClock_removesLapsedLocks() {
            MemoryLockingProvider provider = track(Providers.onSystemTime(Duration.ofMillis(20)));
            for (int i = 0; i < 50; i++) {
                acquired(provider.tryAcquire(List.of("k-" + i), "owner", Duration.ofMillis(50)));
            }

            await().atMost(Duration.ofSeconds(TIMEOUT_SECONDS)).until(() -> provider.size() == 0);
            assertThat(provider.ownerCount()).isZero();
        }
    }

    private static void spin(Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() - end < 0) {
            Thread.onSpinWait();
        }
    }
}
