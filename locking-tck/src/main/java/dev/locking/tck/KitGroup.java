package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockHandle;
import dev.locking.api.LockInfo;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseOptions;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;

/**
 * The base of every group of the kit: what a group's tests use, by the short names they use it by. That is
 * the {@link KitFixture} (this test's service, keys, thread pool and second client), the values of the test
 * class's hooks ({@link #patience()}, {@link #shortLease()}, ...), and the assertions and helpers the groups
 * share: the state of keys as the provider reports it, options, tokens, calls on threads of their own.
 *
 * <p>A group is an abstract subclass in one of the area files ({@code AcquireChecks}, {@code ExecuteChecks},
 * ...); {@link LockingProviderConformance} runs it through a {@code @Nested} class that passes its fixture.
 */
abstract class KitGroup {

    private final KitFixture kit;

    /** This test's service; its default provider is the provider under test. */
    @SuppressWarnings("NullAway.Init") // set by bind(), before every test
    LockingService locking;
    /** The counting view of the provider under test that {@link #locking} uses. */
    @SuppressWarnings("NullAway.Init") // set by bind(), before every test
    CountingProvider counted;
    /** This test's thread pool, stopped after the test. */
    @SuppressWarnings("NullAway.Init") // set by bind(), before every test
    ExecutorService pool;
    /** This test's key prefix. */
    String prefix = "";

    KitGroup(KitFixture kit) {
        this.kit = kit;
    }

    /**
     * Takes this test's service, counting view, pool and prefix from the fixture. JUnit creates a group's
     * instance before the enclosing class's {@code @BeforeEach} sets the fixture up for the test, and runs
     * this method after it.
     */
    @BeforeEach
    final void bind() {
        locking = kit.locking();
        counted = kit.counted();
        pool = kit.pool();
        prefix = kit.prefix();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The fixture
    // ---------------------------------------------------------------------------------------------------------

    final LockingProvider provider() {
        return kit.provider();
    }

    final String key(String name) {
        return kit.key(name);
    }

    final LockingService serviceAround(LockingProvider provider) {
        return kit.serviceAround(provider);
    }

    final LockingService second() {
        return kit.second();
    }

    final CountingProvider secondCounted() {
        return kit.secondCounted();
    }

    final @Nullable LockingProvider secondBackend() {
        return kit.secondBackend();
    }

    final void markForeignDataPlanted() {
        kit.markForeignDataPlanted();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The test class's hooks
    // ---------------------------------------------------------------------------------------------------------

    final @Nullable LockingProvider newSecondClient(String id) {
        return kit.hooks().newSecondClient(id);
    }

    final @Nullable LockingProvider newUnreachableProvider(String id) {
        return kit.hooks().newUnreachableProvider(id);
    }

    final @Nullable Map<String, String> childJvmProperties() {
        return kit.hooks().childJvmProperties();
    }

    final Duration shortLease() {
        return kit.hooks().shortLease();
    }

    final Duration patience() {
        return kit.hooks().patience();
    }

    final Duration wakeUpWithin() {
        return kit.hooks().wakeUpWithin();
    }

    final Duration clockTolerance() {
        return kit.hooks().clockTolerance();
    }

    final Duration unavailableWithin() {
        return kit.hooks().unavailableWithin();
    }

    final boolean acquiresSurviveInterrupts() {
        return kit.hooks().acquiresSurviveInterrupts();
    }

    final @Nullable InetSocketAddress backendAddress() {
        return kit.hooks().backendAddress();
    }

    final @Nullable LockingProvider newProviderThrough(String id, InetSocketAddress proxy) {
        return kit.hooks().newProviderThrough(id, proxy);
    }

    final boolean plantForeignData(String key) {
        return kit.hooks().plantForeignData(key);
    }

    final Duration lostLeaseAllowance() {
        return kit.hooks().lostLeaseAllowance();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shared assertions and helpers
    // ---------------------------------------------------------------------------------------------------------

    Optional<LockInfo> held(String key) {
        return provider().inspect(key);
    }

    LockInfo assertHeld(String key) {
        Optional<LockInfo> info = held(key);
        assertThat(info).as("inspect(%s)", key).isPresent();
        LockInfo lock = info.get();
        assertThat(lock.key()).isEqualTo(key);
        return lock;
    }

    void assertFree(String... keys) {
        for (String k : keys) {
            assertThat(held(k)).as("inspect(%s) of a key that must be free", k).isEmpty();
        }
    }

    Map<String, Optional<LockInfo>> snapshot(String... keys) {
        Map<String, Optional<LockInfo>> snapshot = new LinkedHashMap<>();
        for (String k : keys) {
            snapshot.put(k, held(k));
        }
        return snapshot;
    }

    /** Checks that every key is as it was: free, or held by the same owner with the same token and expiry. */
    void assertUnchanged(Map<String, Optional<LockInfo>> before) {
        before.forEach((k, was) -> {
            Optional<LockInfo> now = held(k);
            if (was.isEmpty()) {
                assertThat(now).as("key %s was free and must still be", k).isEmpty();
                return;
            }
            assertThat(now).as("key %s was held and must still be", k).isPresent();
            LockInfo a = now.get();
            LockInfo b = was.get();
            assertThat(a.ownerId()).as("owner of %s", k).isEqualTo(b.ownerId());
            assertThat(a.fencingToken()).as("fencing token of %s", k).isEqualTo(b.fencingToken());
            assertCloseTo(a.expiresAt(), b.expiresAt(), "expiry of " + k);
        });
    }

    void assertCloseTo(@Nullable Instant actual, @Nullable Instant expected, String what) {
        if (expected == null) {
            assertThat(actual).as(what + " (never expires)").isNull();
        } else {
            assertThat(actual).as(what).isNotNull().isCloseTo(expected, within(clockTolerance().toMillis(), ChronoUnit.MILLIS));
        }
    }

    /** Checks that an expiry is {@code expire} after a moment between {@code before} and {@code after}. */
    void assertExpiresAbout(@Nullable Instant expiresAt, Instant before, Instant after, Duration expire,
            String what) {
        assertThat(expiresAt).as(what + " must be set").isNotNull();
        assertThat(expiresAt).as(what)
                .isBetween(before.plus(expire).minus(clockTolerance()), after.plus(expire).plus(clockTolerance()));
    }

    ConditionFactory waiting() {
        return Awaitility.await().atMost(patience()).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    /** Waits until the key is free, at most {@code bound}. */
    void awaitFree(String key, Duration bound) {
        waiting().atMost(bound).until(() -> held(key).isEmpty());
    }

    /** How long a lock with {@link #shortLease()} may take to show as free. */
    Duration lapseBound() {
        return shortLease().plus(clockTolerance()).plus(Duration.ofSeconds(2));
    }

    /** Waits until {@code duration} has passed since {@code startNanos} (time passing, not synchronisation). */
    void awaitElapsed(long startNanos, Duration duration) {
        waiting().atMost(duration.plus(patience()))
                .until(() -> System.nanoTime() - startNanos >= duration.toNanos());
    }

    static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    static AcquireOptions owner(@Nullable String ownerId) {
        return AcquireOptions.builder().ownerId(ownerId).build();
    }

    static AcquireOptions owner(@Nullable String ownerId, Duration expire) {
        return AcquireOptions.builder().ownerId(ownerId).expire(expire).build();
    }

    static ReleaseOptions by(@Nullable String ownerId) {
        return ReleaseOptions.builder().ownerId(ownerId).build();
    }

    static ExecuteOptions waitUpTo(Duration timeout) {
        return ExecuteOptions.builder().timeout(timeout).build();
    }

    ExecuteOptions patiently() {
        return waitUpTo(patience());
    }

    static String acquireFailed(String key) {
        return "Failed to acquire lock for key \"" + key + "\"";
    }

    static long token(Lease lease, String key) {
        Long token = lease.fencingTokens().get(key);
        assertThat(token).as("fencing token of %s in %s", key, lease).isNotNull();
        return token;
    }

    static long token(AcquireResult result, String key) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        Long token = ((AcquireResult.Acquired) result).fencingTokens().get(key);
        assertThat(token).as("fencing token of %s in %s", key, result).isNotNull();
        return token;
    }

    void assertAcquireFails(ThrowingCallable call, String conflictingKey) {
        assertThatThrownBy(call)
                .isInstanceOf(LockAcquisitionException.class)
                .hasMessage(acquireFailed(conflictingKey))
                .satisfies(e -> assertThat(((LockAcquisitionException) e).getKey()).isEqualTo(conflictingKey));
    }

    /**
     * Starts the threads together; each runs {@code execute} {@code rounds} times, through its service, on its
     * keys around an unsynchronised counter. Every call must finish in time, with the exact total and no
     * overlap.
     */
    void assertExclusive(int threads, int rounds, IntFunction<LockingService> serviceOfThread,
            IntFunction<List<String>> keysOfThread) throws Exception {
        assertExclusive(threads, rounds, serviceOfThread, keysOfThread, lock -> {});
    }

    /** As above; each job also passes its handle to {@code inside}, within the critical section. */
    void assertExclusive(int threads, int rounds, IntFunction<LockingService> serviceOfThread,
            IntFunction<List<String>> keysOfThread, Consumer<LockHandle> inside) throws Exception {
        CriticalSection section = new CriticalSection();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            LockingService service = serviceOfThread.apply(t);
            List<String> keys = keysOfThread.apply(t);
            workers.add(async(() -> {
                assertThat(go.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                for (int r = 0; r < rounds; r++) {
                    service.execute(keys, lock -> {
                        inside.accept(lock);
                        section.enter();
                        return "done";
                    }, patiently());
                }
                return rounds;
            }));
        }
        go.countDown();
        for (Future<Integer> worker : workers) {
            assertThat(result(worker)).isEqualTo(rounds);
        }
        assertThat(section.overlaps).hasValue(0);
        assertThat(section.counter).isEqualTo(threads * rounds);
    }

    /**
     * Takes {@code key} through the provider under test, lets {@code waitingClient.awaitRelease} wait for it
     * (again, should it return early), releases it through the provider under test, and asserts that the
     * wait returned within {@link #wakeUpWithin()} of the release.
     */
    void assertAwaitReleaseReturnsSoonAfterARelease(LockingProvider waitingClient, String key) throws Exception {
        provider().tryAcquire(List.of(key), "owner-1", null);
        CountingProvider waiter = new CountingProvider(waitingClient);
        Future<Long> freed = async(() -> {
            long deadline = System.nanoTime() + patience().toNanos();
            while (waitingClient.inspect(key).isPresent() && System.nanoTime() - deadline < 0) {
                waiter.awaitRelease(List.of(key), patience()); // the core retries sooner; this does not
            }
            return System.nanoTime();
        });
        waiting().until(() -> waiter.awaits() >= 1); // the release must come while it waits

        long released = System.nanoTime();
        assertThat(provider().release(List.of(key), "owner-1")).isTrue();
        assertThat(Duration.ofNanos(result(freed) - released)).isLessThan(wakeUpWithin());
    }

    <T> Future<T> async(Callable<T> task) {
        return pool.submit(task);
    }

    <T> T result(Future<T> future) throws InterruptedException {
        try {
            return future.get(patience().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("the task failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("the task did not finish within " + patience(), e);
        }
    }

    /** What a call did: its value or what it threw, and whether its thread was interrupted right after. */
    record Outcome(@Nullable Object value, @Nullable Throwable thrown, boolean interruptedAfter) {
        Throwable failure() {
            Throwable t = thrown;
            if (t == null) {
                throw new AssertionError("the call returned " + value + " instead of throwing");
            }
            return t;
        }
    }

    static Outcome capture(Callable<?> call) {
        try {
            Object value = call.call();
            return new Outcome(value, null, Thread.currentThread().isInterrupted());
        } catch (InterruptedException e) {
            return new Outcome(null, e, Thread.currentThread().isInterrupted());
        } catch (Exception | Error e) {
            return new Outcome(null, e, Thread.currentThread().isInterrupted());
        }
    }

    /** A call running on a thread of its own that a test can interrupt. */
    record Running(Future<Outcome> outcome, Thread thread) {}

    Running start(Callable<?> call) throws InterruptedException {
        AtomicReference<Thread> thread = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Future<Outcome> outcome = async(() -> {
            thread.set(Thread.currentThread());
            started.countDown();
            return capture(call);
        });
        assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).as("thread started").isTrue();
        Thread t = thread.get();
        assertThat(t).isNotNull();
        return new Running(outcome, t);
    }

    /** Simulated work inside a critical section: a tenth of a millisecond, to invite a racing thread in. */
    static void pause() {
        LockSupport.parkNanos(100_000);
    }

    /**
     * Tracks overlapping jobs: how many are inside now, the most seen, and an unsynchronised counter.
     *
     * <p>Concurrency: the jobs of many threads (or clients) enter it at once; the two counts are atomic, and
     * {@code counter} is on purpose guarded by nothing but the lock under test, so a broken lock loses updates.
     */
    static final class CriticalSection {
        final AtomicInteger inside = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();
        int counter; // deliberately unsynchronised: only the lock protects it

        void enter() {
            if (inside.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            int read = counter;
            pause(); // widen the window in which a second job would lose an update
            counter = read + 1;
            inside.decrementAndGet();
        }
    }
}
