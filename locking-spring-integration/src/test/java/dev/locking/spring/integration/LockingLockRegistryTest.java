package dev.locking.spring.integration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import org.jspecify.annotations.Nullable;
import dev.locking.spi.support.ForwardingLockingProvider;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.AcquireResult;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.core.Locking;
import dev.locking.memory.MemoryProviderFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The registry against what Spring Integration's registries promise (reentrant, owned by the locking thread, a
 * timed tryLock, executeLocked), on the real lp_memory with real threads. Two registries on one service stand for
 * two JVMs: their locks exclude each other only through the provider.
 */
@SuppressWarnings("LockNotBeforeTry") // the tests look at the lock between its calls; the service is closed after each
class LockingLockRegistryTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final AtomicInteger IDS = new AtomicInteger();

    private final String id = "lp_registry" + IDS.incrementAndGet();
    private final LockingService locking =
            Locking.builder().provider(MemoryProviderFactory.newProvider(id)).defaultProvider(id).build();
    private final LockingLockRegistry one = LockingLockRegistry.builder(locking).prefix("orders:").build();
    private final LockingLockRegistry two = LockingLockRegistry.builder(locking).prefix("orders:").build();
    private final LockingLockRegistry plain = LockingLockRegistry.of(locking);
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void close() {
        threads.shutdownNow();
        one.close();
        two.close();
        plain.close();
        locking.close();
    }

    @Test
    void twoRegistriesExcludeEachOther_throughTheProvider_withAnExactCountAndNoOverlap() throws Exception {
        Contention result = Contention.run(threads, List.of(one, two), 42, 6, 100);
        assertThat(result.overlaps()).isZero();
        assertThat(result.counter()).isEqualTo(6 * 100);
        assertThat(locking.inspect("orders:42")).isEmpty();
    }

    @Test
    void theLockIsReentrant_andTheKeyIsFreedByTheLastUnlock() {
        LockingLock lock = one.obtain("a");
        lock.lock();
        lock.lock();
        assertThat(one.obtain("a")).isSameAs(lock);
        long token = lock.fencingToken().orElseThrow();
        lock.unlock();
        assertThat(locking.inspect("orders:a")).map(LockInfo::fencingToken).contains(token);
        assertThat(two.obtain("a").tryLock()).isFalse();
        lock.unlock();
        assertThat(locking.inspect("orders:a")).isEmpty();
        assertThat(lock.fencingToken()).isEmpty();
    }

    @Test
    void anotherThreadsUnlock_isRefused_andTheLockStaysHeld() throws Exception {
        LockingLock lock = one.obtain("b");
        lock.lock();
        Future<?> foreign = threads.submit(lock::unlock);
        assertThatThrownBy(() -> foreign.get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(IllegalMonitorStateException.class);
        assertThat(locking.inspect("orders:b")).isPresent();
        lock.unlock();
        assertThat(locking.inspect("orders:b")).isEmpty();
    }

    @Test
    void aTimedTryLock_givesUpWhenTheKeyStaysHeld_andIsWokenWhenItIsReleased() throws Exception {
        LockingLock held = one.obtain("c");
        held.lock();
        long start = System.nanoTime();
        assertThat(two.obtain("c").tryLock(200, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));

        CountDownLatch waiting = new CountDownLatch(1);
        Future<Boolean> waiter = threads.submit(() -> {
            LockingLock lock = two.obtain("c");
            waiting.countDown();
            boolean taken = lock.tryLock(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            if (taken) {
                lock.unlock();
            }
            return taken;
        });
        waiting.await();
        held.unlock();
        assertThat(waiter.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void anInterruptedWait_throwsInterruptedException_andLeavesNothingLocked() throws Exception {
        LockingLock held = one.obtain("d");
        held.lock();
        AtomicReference<Thread> waiterThread = new AtomicReference<>();
        CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
            waiterThread.set(Thread.currentThread());
            try {
                two.obtain("d").lockInterruptibly();
                return null;
            } catch (Throwable t) {
                return t;
            }
        }, threads);
        await().atMost(PATIENCE).until(() -> waiterThread.get() != null
                && waiterThread.get().getState() != Thread.State.RUNNABLE);
        waiterThread.get().interrupt();
        assertThat(outcome.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        held.unlock();
        assertThat(locking.inspect("orders:d")).isEmpty();
        LockingLock again = two.obtain("d");
        assertThat(again.tryLock()).isTrue();
        again.unlock();
    }

    @Test
    void aHeldLockIsRenewed_pastItsLease() {
        try (LockingLockRegistry shortLease = LockingLockRegistry.builder(locking).lease(Duration.ofMillis(300)).build()) {
            LockingLock lock = shortLease.obtain("e");
            lock.lock();
            Instant first = locking.inspect("e").orElseThrow().expiresAt();
            await().atMost(PATIENCE).until(() -> locking.inspect("e").map(LockInfo::expiresAt)
                    .filter(later -> later.isAfter(first.plusMillis(600))).isPresent());
            assertThat(plain.obtain("e").tryLock()).isFalse();
            assertThat(lock.isLost()).isFalse();
            lock.unlock();
            assertThat(locking.inspect("e")).isEmpty();
        }
    }

    @Test
    void aLockTakenAwayWhileHeld_isReportedLost_andItsUnlockThrows() {
        LockingLock lock = one.obtain("f");
        lock.lock();
        locking.releaseAll(ReleaseAllOptions.DEFAULTS); // someone frees every lock, as an operator might
        assertThatThrownBy(lock::unlock).isInstanceOf(ConcurrentModificationException.class)
                .hasMessageContaining("orders:f").hasMessageContaining("lost");
        assertThat(lock.fencingToken()).isEmpty();
        assertThat(lock.tryLock()).isTrue(); // and it can be taken again
        lock.unlock();
    }

    @Test
    void aRenewalThatFindsTheKeyGone_marksTheLockLost() {
        try (LockingLockRegistry shortLease = LockingLockRegistry.builder(locking).lease(Duration.ofMillis(300)).build()) {
            LockingLock lock = shortLease.obtain("g");
            lock.lock();
            long token = lock.fencingToken().orElseThrow();
            locking.releaseAll(ReleaseAllOptions.DEFAULTS);
            var other = plain.obtain("g");
            assertThat(other.tryLock()).isTrue();
            await().atMost(PATIENCE).until(lock::isLost);
            other.unlock();
            assertThatThrownBy(lock::unlock).isInstanceOf(ConcurrentModificationException.class);
            assertThat(token).isPositive();
        }
    }

    @Test
    void aKeyThatLapsedAndWasTakenAnewByTheRenewal_countsAsLost_andItsUnlockStillFreesIt() {
        try (LockingLockRegistry shortLease = LockingLockRegistry.builder(locking).lease(Duration.ofMillis(300)).build()) {
            LockingLock lock = shortLease.obtain("g2");
            lock.lock();
            locking.releaseAll(ReleaseAllOptions.DEFAULTS); // free for a moment: someone could have used it
            await().atMost(PATIENCE).until(lock::isLost);
            assertThat(locking.inspect("g2")).isPresent(); // the renewal took it again, under a new token
            assertThatThrownBy(lock::unlock).isInstanceOf(ConcurrentModificationException.class);
            assertThat(locking.inspect("g2")).isEmpty();
        }
    }

    @Test
    void executeLocked_withATimeout_throwsTimeoutException_whenTheKeyStaysHeld() throws Exception {
        LockingLock held = one.obtain("h");
        held.lock();
        assertThatThrownBy(() -> two.executeLocked("h", Duration.ofMillis(100), () -> { }))
                .isInstanceOf(TimeoutException.class);
        held.unlock();
        assertThat(two.executeLocked("h", Duration.ofSeconds(5), () -> "ran")).isEqualTo("ran");
    }

    @Test
    void closingTheRegistry_releasesWhatItHolds() {
        LockingLockRegistry registry = LockingLockRegistry.of(locking);
        registry.obtain("i").lock();
        assertThat(locking.inspect("i")).isPresent();
        registry.close();
        assertThat(locking.inspect("i")).isEmpty();
        assertThatThrownBy(() -> registry.obtain("i")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void unusedLocksAreForgotten_butAHeldOneIsKept() {
        LockingLock held = one.obtain("j");
        held.lock();
        LockingLock idle = one.obtain("k");
        assertThat(idle.tryLock()).isTrue();
        idle.unlock();
        one.expireUnusedOlderThan(-1);
        assertThat(one.obtain("j")).isSameAs(held);
        assertThat(one.obtain("k")).isNotSameAs(idle);
        held.unlock();
    }

    @Test
    void badInput_isAClearError_andTakesNothing() {
        assertThatThrownBy(() -> one.obtain(null)).isInstanceOf(IllegalArgumentException.class);
        LockingLockRegistry noPrefix = LockingLockRegistry.of(locking);
        LockingLock empty = noPrefix.obtain("");
        assertThatThrownBy(empty::lock).isInstanceOf(IllegalArgumentException.class);
        assertThat(empty.fencingToken()).isEmpty();
        assertThatThrownBy(() -> LockingLockRegistry.builder(locking).lease(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> one.obtain("l").tryLock(Duration.ofSeconds(1), Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(one.obtain("l").tryLock()).isTrue(); // the refused call left the local lock free
        one.obtain("l").unlock();
        noPrefix.close();
    }

    @Test
    void aRenewalUnderWayWhenTheHolderUnlocks_neverTakesTheKeyBackAfterTheRelease() throws Exception {
        String slowId = id + "-slow";
        CountDownLatch renewalStarted = new CountDownLatch(1);
        CountDownLatch letRenewalGo = new CountDownLatch(1);
        CountDownLatch renewalDone = new CountDownLatch(1);
        AtomicReference<Boolean> holdRenewals = new AtomicReference<>(false);
        LockingProvider slow = new ForwardingLockingProvider(MemoryProviderFactory.newProvider(slowId)) {
            @Override
            public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
                boolean held = holdRenewals.get() && renewalStarted.getCount() > 0
                        && Thread.currentThread().getName().startsWith("locking-registry-renewal");
                if (held) {
                    renewalStarted.countDown();
                    try {
                        letRenewalGo.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                try {
                    return super.tryAcquire(keys, ownerId, lease);
                } finally {
                    if (held) {
                        renewalDone.countDown();
                    }
                }
            }
        };
        try (LockingService service = Locking.builder().provider(slow).defaultProvider(slowId).build();
                LockingLockRegistry registry = LockingLockRegistry.builder(service).lease(Duration.ofMillis(300)).build()) {
            LockingLock lock = registry.obtain("m");
            Future<?> holder = threads.submit(() -> {
                lock.lock();
                holdRenewals.set(true);
                renewalStarted.await(); // a renewal is on its way to the backend now
                lock.unlock();
                return null;
            });
            await().atMost(PATIENCE).until(() -> holder.isDone() || unlockWaitsForTheRenewal());
            letRenewalGo.countDown();
            holder.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            assertThat(renewalDone.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(service.inspect("m")).as("the key after the holder's unlock and the renewal").isEmpty();
        }
    }

    /** Whether the registry's unlocking thread waits for the renewal under way (with the fix it does). */
    private static boolean unlockWaitsForTheRenewal() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getState() == Thread.State.BLOCKED
                && java.util.Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getMethodName().equals("releaseOnBackend")));
    }
}
