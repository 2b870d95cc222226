package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.memory.MemoryProviderFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The in-process queue of {@code execute}: threads of one JVM get a key in arrival order, a releasing
 * thread does not barge ahead of the waiters, waiters do not ask the backend before their turn, and
 * calls made while holding keys never queue. Real threads on the real lp_memory.
 */
class LocalQueueTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    private final TestProviders.CountingProvider provider =
            new TestProviders.CountingProvider(MemoryProviderFactory.newProvider("lp_counted"));
    /**
     * Wait slices far longer than any test: a wake-up that goes missing hangs the test (and fails it at
     * {@link #PATIENCE}) instead of being covered by a slice's retry, and the counts of backend calls are
     * exact however slow the machine.
     */
    private final LockingService locking = Locking.builder().provider(provider).defaultProvider("lp_counted")
            .waitSlice(Duration.ofMinutes(10)).build();
    private final LocalQueue queue = ((DefaultLockingService) locking).queue("lp_counted");
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Future<Boolean>> holders = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() throws Exception {
        try {
            for (Future<Boolean> holder : holders) {
                assertThat(holder.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("the holder was let go").isTrue();
            }
        } finally {
            // Also after a failed test: a service left open would keep its locks for the test classes after it.
            threads.shutdownNow();
            assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
            locking.close();
        }
    }

    private static ExecuteOptions patiently() {
        return ExecuteOptions.builder().timeout(PATIENCE).build();
    }

    /** Starts an execute on the key that holds it until the returned latch opens. */
    private CountDownLatch holdUntilOpened(String key) {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch open = new CountDownLatch(1);
        holders.add(threads.submit(() -> locking.execute(key, lock -> {
            entered.countDown();
            return open.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }, patiently())));
        await().atMost(PATIENCE).until(() -> entered.getCount() == 0);
        return open;
    }

    /**
     * The holder took the key before anyone here waited for it, so the queue did not record it (that keeps
     * uncontended calls cheap): the first waiter asks the backend once, finds the key held and waits on the
     * provider's notification. Every later call finds the line and queues without asking, and each call
     * that takes the key while it has a line is counted, so none of them asks before its turn.
     */
    @Test
    void waitersOfOneJvm_getTheKeyInArrivalOrder_eachAskingTheBackendOnceInTurn() throws Exception {
        CountDownLatch open = holdUntilOpened("k");
        assertThat(queue.lines()).as("an uncontended call records nothing").isZero();
        List<Integer> entries = new CopyOnWriteArrayList<>();
        List<Future<?>> waiters = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            int id = i;
            waiters.add(threads.submit(() -> locking.execute("k", lock -> entries.add(id), patiently())));
            await().atMost(PATIENCE).until(() -> queue.waiting("k") == id);
        }
        await().atMost(PATIENCE).until(() -> provider.awaits.get() == 1);
        assertThat(provider.tryAcquires.get()).as("the holder, then the first waiter only").isEqualTo(2);

        open.countDown();
        for (Future<?> waiter : waiters) {
            waiter.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }
        assertThat(entries).containsExactly(1, 2, 3, 4, 5);
        assertThat(provider.tryAcquires.get()).as("one more attempt per waiter, in its turn").isEqualTo(7);
        assertThat(provider.awaits.get()).as("only the first waiter needed the provider's notification")
                .isEqualTo(1);
        assertThat(queue.lines()).isZero();
    }

    /**
     * The holder was not counted (it took the key uncontended), and its release reaches the queue only after
     * the first waiter, woken by the provider, has taken the key and been counted. That release must not
     * take the first waiter's count away and wake the second waiter while the first one holds the key: the
     * second would ask the backend out of turn (and the count would be wrong from then on). The provider
     * holds the holder's thread between its release and the queue's bookkeeping to force that order.
     */
    @Test
    void theReleaseOfAnUncountedHolder_doesNotWakeTheNextWaiter_whileTheFirstOneHoldsTheKey() throws Exception {
        CountDownLatch open = holdUntilOpened("k");
        CountDownLatch firstHolds = new CountDownLatch(1);
        CountDownLatch letFirstGo = new CountDownLatch(1);
        Future<?> first = threads.submit(() -> locking.execute("k", lock -> {
            firstHolds.countDown();
            return letFirstGo.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        }, patiently()));
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 1 && provider.awaits.get() == 1);
        Future<?> second = threads.submit(() -> locking.execute("k", lock -> "second", patiently()));
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 2);
        int attemptsBefore = provider.tryAcquires.get();
        provider.afterRelease = () -> {
            provider.afterRelease = () -> {};
            try {
                firstHolds.await(PATIENCE.toSeconds(), TimeUnit.SECONDS); // the first waiter took it and is counted
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };

        open.countDown();
        assertThat(firstHolds.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().atMost(PATIENCE).until(() -> holders.get(0).isDone());
        // Give a wrongly woken second waiter the time to ask; a correct one stays parked.
        await("only the first waiter asked the backend (the second must stay parked while the first holds)")
                .during(Duration.ofMillis(300)).atMost(PATIENCE)
                .until(() -> provider.tryAcquires.get() == attemptsBefore + 1);
        assertThat(queue.heldHere("k")).as("the first waiter is still counted as the key's holder").isTrue();

        letFirstGo.countDown();
        first.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(second.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("second");
        assertThat(provider.tryAcquires.get()).as("one attempt each for the two waiters").isEqualTo(attemptsBefore + 2);
    }

    @Test
    void aThreadThatReleases_doesNotOvertakeTheWaiter_whenItLocksAgainAtOnce() throws Exception {
        List<String> entries = new CopyOnWriteArrayList<>();
        CountDownLatch waiterQueued = new CountDownLatch(1);
        Future<?> looper = threads.submit(() -> {
            for (int round = 1; round <= 3; round++) {
                int r = round;
                locking.execute("k", lock -> {
                    entries.add("looper-" + r);
                    return r == 1 && waiterQueued.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
                }, patiently());
            }
            return null;
        });
        await().atMost(PATIENCE).until(() -> entries.contains("looper-1"));
        Future<?> waiter = threads.submit(() -> locking.execute("k", lock -> entries.add("waiter"), patiently()));
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 1);
        waiterQueued.countDown();

        looper.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        waiter.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(entries).containsExactly("looper-1", "waiter", "looper-2", "looper-3");
    }

    @Test
    void aCallMadeWhileHoldingKeys_doesNotQueueBehindAWaiterForThoseKeys() throws Exception {
        // The holder has "p"; a waiter wants "k" and "p" and so queues on both. The holder's job then
        // asks for "k", which is free: queuing behind the waiter would wait for the holder itself.
        CountDownLatch waiterQueued = new CountDownLatch(1);
        AtomicReference<String> nested = new AtomicReference<>();
        Future<?> holder = threads.submit(() -> locking.execute("p", outer -> {
            waiterQueued.await(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            return nested.getAndSet(locking.execute("k", inner -> "ran",
                    ExecuteOptions.builder().timeout(Duration.ofSeconds(1)).build()));
        }, patiently()));
        await().atMost(PATIENCE).until(() -> provider.tryAcquires.get() == 1);
        Future<?> waiter = threads.submit(() -> locking.execute(List.of("k", "p"), lock -> "ran", patiently()));
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 1 && queue.waiting("p") == 1);
        waiterQueued.countDown();

        holder.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        waiter.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(nested).hasValue("ran");
        assertThat(queue.lines()).isZero();
    }

    @Test
    void aWaiterThatTimesOut_leavesTheLine_andTheNextOneStillGetsItsTurn() throws Exception {
        CountDownLatch open = holdUntilOpened("k");
        // Long enough for the checks below to see it waiting on a loaded machine (300 ms once was not).
        Future<?> impatient = threads.submit(() -> locking.execute("k", lock -> "ran",
                ExecuteOptions.builder().timeout(Duration.ofSeconds(3)).build()));
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 1);
        Future<String> patient = threads.submit(() -> locking.execute("k", lock -> "ran", patiently()));
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 2);

        assertThatThrownBy(() -> impatient.get(PATIENCE.toSeconds(), TimeUnit.SECONDS))
                .hasCauseInstanceOf(LockTimeoutException.class);
        assertThat(queue.waiting("k")).isEqualTo(1);
        open.countDown();
        assertThat(patient.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("ran");
        assertThat(queue.lines()).isZero();
    }

    @Test
    void anInterruptedWaiter_leavesTheLine_keepsItsFlag_andTheNextOneStillGetsItsTurn() throws Exception {
        CountDownLatch open = holdUntilOpened("k");
        AtomicReference<Thread> firstThread = new AtomicReference<>();
        Future<Boolean> first = threads.submit(() -> {
            firstThread.set(Thread.currentThread());
            try {
                locking.execute("k", lock -> "ran", patiently());
                return false;
            } catch (LockingException e) {
                return e.getMessage().contains("Interrupted") && Thread.currentThread().isInterrupted();
            }
        });
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 1);
        Future<String> second = threads.submit(() -> locking.execute("k", lock -> "ran", patiently()));
        await().atMost(PATIENCE).until(() -> queue.waiting("k") == 2);

        firstThread.get().interrupt();
        assertThat(first.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).as("LockingException, flag kept").isTrue();
        open.countDown();
        assertThat(second.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isEqualTo("ran");
        assertThat(queue.lines()).isZero();
    }

    @Test
    void manyThreadsOnOverlappingKeySets_neverOverlap_allFinish_andLeaveNoLines() throws Exception {
        // The class's long wait slice: a wake-up the queue loses hangs the workers and fails the test.
        List<String> keys = List.of("a", "b", "c", "d", "e", "f", "g", "h");
        Map<String, AtomicInteger> inside = new ConcurrentHashMap<>();
        keys.forEach(k -> inside.put(k, new AtomicInteger()));
        AtomicInteger overlaps = new AtomicInteger();
        AtomicInteger entries = new AtomicInteger();
        int threadCount = 4;
        int rounds = 2000;
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            workers.add(threads.submit(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int round = 0; round < rounds; round++) {
                    List<String> mine = new ArrayList<>(keys);
                    Collections.shuffle(mine, random);
                    List<String> taken = List.copyOf(mine.subList(0, 3));
                    locking.execute(taken, lock -> {
                        for (String k : taken) {
                            if (inside.get(k).incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                        }
                        entries.incrementAndGet();
                        Thread.onSpinWait();
                        for (String k : taken) {
                            inside.get(k).decrementAndGet();
                        }
                        return null;
                    }, ExecuteOptions.builder().timeout(Duration.ofMinutes(5)).build());
                }
                return null;
            }));
        }
        for (Future<?> worker : workers) {
            worker.get(120, TimeUnit.SECONDS);
        }
        assertThat(overlaps).hasValue(0);
        assertThat(entries).hasValue(threadCount * rounds);
        assertThat(queue.lines()).isZero();
    }
}
