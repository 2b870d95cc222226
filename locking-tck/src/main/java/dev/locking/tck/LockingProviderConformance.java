package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockHandle;
import dev.locking.api.LockInfo;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderNotFoundException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import dev.locking.core.Locking;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The conformance suite for {@link LockingProvider} implementations: every row of the Locking semantics,
 * the scenarios of the reference module's tests, concurrency, and (for distributed providers) two clients
 * and several JVMs. A provider's test extends this class once per backend topology and says how to build
 * its provider. For an in-process provider that is all:
 *
 * {@snippet :
 * class MemoryProviderConformanceTest extends LockingProviderConformance {
 *     @Override protected LockingProvider newProvider(String id) {
 *         return MemoryProviderFactory.newProvider(id);
 *     }
 * }
 * }
 *
 * A distributed provider also hands out a second client of the same backend and tells child JVMs how to
 * reach it, which turns on the two-client and multi-JVM groups:
 *
 * {@snippet :
 * class RedisSingleServerConformanceTest extends LockingProviderConformance {
 *     @RegisterExtension static final RedisServer REDIS = RedisServer.fromEnvOrStart();
 *
 *     @Override protected LockingProvider newProvider(String id) { return REDIS.provider(id); }
 *     @Override protected LockingProvider newSecondClient(String id) { return REDIS.provider(id); }
 *     @Override protected Map<String, String> childJvmProperties() {
 *         return Map.of("locking.default", PROVIDER_ID,          // lp_tck, the id the kit uses
 *                 "locking.providers.tck.type", "redis",
 *                 "locking.providers.tck.address", REDIS.address());
 *     }
 * }
 * }
 *
 * <h2>Add it to a provider module</h2>
 * <pre>{@code
 * <dependency>
 *   <groupId>dev.locking</groupId>
 *   <artifactId>locking-tck</artifactId>
 *   <version>${locking.version}</version>
 *   <scope>test</scope>
 * </dependency>
 * }</pre>
 * It brings JUnit Jupiter, AssertJ, Awaitility and {@code locking-core} (which runs the tests' services).
 *
 * <h2>How the tests use the provider</h2>
 * {@link #newProvider(String)} is called once per concrete test class, lazily before the first test (after
 * the subclass's {@code @BeforeAll} methods and class-level extensions ran), and the provider is closed after
 * the last test. Each test builds a fresh {@link LockingService} with
 * {@code Locking.builder().provider(...).defaultProvider(PROVIDER_ID)}, around a wrapper of that provider that
 * counts calls (so a test can prove that bad input never reached the provider) and that does not close it.
 * Most tests go through the service, as applications do (validation, waiting, renewal and nesting are the
 * core's); rules that belong to the provider alone are also checked through the SPI directly.
 *
 * <h2>Isolation</h2>
 * Every test uses keys of its own (a random prefix), so tests never see each other's locks on a shared
 * backend. After each test the kit calls {@code releaseAll(null)} on the provider, and the
 * {@code releaseAll()} tests do the same: give the provider a namespace (key prefix) that nothing else uses
 * while the suite runs. The suite runs its tests one at a time ({@link ExecutionMode#SAME_THREAD}).
 *
 * <h2>Optional capabilities</h2>
 * Groups that need more than one provider are skipped, with the reason, unless a hook returns something:
 * <ul>
 *   <li>{@link #newSecondClient(String)}: two clients of the same backend (distributed providers).</li>
 *   <li>{@link #newUnreachableProvider(String)}: a provider configured for a backend that is down.</li>
 *   <li>{@link #childJvmProperties()}: system properties with which {@code Locking.create()} in another JVM
 *       reaches the same backend, for {@link MultiJvmContention}.</li>
 *   <li>{@link #backendAddress()} and {@link #newProviderThrough(String, InetSocketAddress)}: a client behind
 *       a {@link LoopbackProxy}, which the kit cuts off from the backend to check that a lost lease is
 *       noticed on time.</li>
 *   <li>{@link #plantForeignData(String)}: data the provider did not write, where it keeps a lock.</li>
 * </ul>
 * The durations the tests wait for ({@link #shortLease()}, {@link #patience()}, {@link #wakeUpWithin()},
 * {@link #clockTolerance()}, {@link #unavailableWithin()}, {@link #lostLeaseAllowance()}) can be widened for slow
 * backends.
 *
 * <p>This class uses {@link TestInstance.Lifecycle#PER_CLASS}, which subclasses inherit: their
 * {@code @BeforeAll} and {@code @AfterAll} methods may be instance methods.
 *
 * @since 0.1.0
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Execution(ExecutionMode.SAME_THREAD)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
public abstract class LockingProviderConformance {

    /** The id the kit gives the provider under test; it is the default provider of each test's service. */
    public static final String PROVIDER_ID = "lp_tck";

    /** How many lapsed locks {@code TakeoverRace} races for. */
    static final int TAKEOVER_ROUNDS = 200;
    /** The lease of a lock that {@code TakeoverRace} lets lapse: tiny, so that 200 rounds take seconds. */
    static final Duration TAKEOVER_LEASE = Duration.ofMillis(25);
    /** The lease of the {@code execute} that {@code LostLeaseDeadline} cuts off from its backend. */
    static final Duration LOST_LEASE = Duration.ofMillis(1500);

    private @Nullable LockingProvider backend;
    private @Nullable LockingProvider secondBackend;
    private boolean secondClientAsked;

    private String prefix = "";
    private CountingProvider counted;
    private LockingService locking;
    private @Nullable CountingProvider secondCounted;
    private @Nullable LockingService secondLocking;
    private ExecutorService pool;
    /** Set once a ForeignData test planted data that no call can remove; read by the clean-up. */
    private boolean foreignDataPlanted;

    /** Creates the suite; subclasses have a no-argument constructor, as JUnit needs. */
    protected LockingProviderConformance() {}

    // ---------------------------------------------------------------------------------------------------------
    // What a subclass provides
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Returns a new client of the backend under test. Called once per concrete test class, before its first
     * test; the kit closes it after the last test.
     *
     * @param id the id the provider must report from {@link LockingProvider#id()}: {@value #PROVIDER_ID}
     * @return a provider that has not been used yet
     */
    protected abstract LockingProvider newProvider(String id);

    /**
     * Returns another, independent client of the <em>same</em> backend and namespace as
     * {@link #newProvider(String)}, for the two-client tests. In-process providers return {@code null} (the
     * default), and those tests are skipped. May be called more than once; the kit closes what it gets.
     *
     * @param id the id the provider must report: {@value #PROVIDER_ID}
     * @return a second client, or {@code null} if the backend is not shared between clients
     */
    protected @Nullable LockingProvider newSecondClient(String id) {
        return null;
    }

    /**
     * Returns a provider configured for a backend that cannot be reached (for example an address where nothing
     * listens), to check that calls fail with {@link ProviderUnavailableException} within
     * {@link #unavailableWithin()}. {@code null} (the default) skips that test. The kit closes it.
     *
     * @param id the id the provider must report: {@value #PROVIDER_ID}
     * @return a provider whose backend is down, or {@code null}
     */
    protected @Nullable LockingProvider newUnreachableProvider(String id) {
        return null;
    }

    /**
     * Returns the system properties with which {@code Locking.create()} in a child JVM has, as its default
     * provider, a client of the same backend and namespace as {@link #newProvider(String)}, such as
     * {@code locking.default=lp_tck}, {@code locking.providers.tck.type=redis},
     * {@code locking.providers.tck.address=redis://127.0.0.1:6379}. {@code null} (the default) skips the
     * tests across JVMs, as it must for in-process providers.
     *
     * @return system properties for child JVMs, or {@code null}
     */
    protected @Nullable Map<String, String> childJvmProperties() {
        return null;
    }

    /**
     * Returns the lease used by tests that wait for a lock to lapse or be renewed. Default 1 second.
     *
     * @return a short, positive lease
     */
    protected Duration shortLease() {
        return Duration.ofSeconds(1);
    }

    /**
     * Returns the bound for things that should happen soon but may be slow on a busy machine (a thread
     * finishing, a renewal noticing a lost lock), and the timeout of {@code execute} calls that must not time
     * out. Default 20 seconds.
     *
     * @return a generous, positive duration
     */
    protected Duration patience() {
        return Duration.ofSeconds(20);
    }

    /**
     * Returns how soon after a release a waiting {@code execute} must be running its job. Default 1 second.
     *
     * @return a positive duration
     */
    protected Duration wakeUpWithin() {
        return Duration.ofSeconds(1);
    }

    /**
     * Returns how far an expiry reported by the provider may be from the one this JVM's clock predicts (clock
     * skew, rounding, round trips). Default 500 milliseconds.
     *
     * @return a non-negative duration
     */
    protected Duration clockTolerance() {
        return Duration.ofMillis(500);
    }

    /**
     * Returns how soon a call on an unreachable backend must fail. Default 30 seconds.
     *
     * @return a positive duration
     */
    protected Duration unavailableWithin() {
        return Duration.ofSeconds(30);
    }

    /**
     * A loopback port for {@link #newUnreachableProvider(String)} on which nothing listens: port 1, below
     * the range the system picks local ports from. A free port from that range will do most of the time,
     * but a client that connects to 127.0.0.1 on it may be given that very port as its own, and then
     * connects to itself (TCP's simultaneous open) and waits for a server that is its own echo.
     *
     * @return a port to which a connection is refused
     */
    protected static int closedPort() {
        return 1;
    }

    /**
     * Returns whether an acquire that an interrupt cuts short while the provider waits for its backend still
     * tells the truth: it returns (the keys taken, the flag set again) or fails having taken nothing. Default
     * true. A provider that cannot promise this yet returns false, which skips
     * {@code InterruptsDuringCalls}; say why in its documentation.
     *
     * @return whether the kit checks acquires under a stream of interrupts
     */
    protected boolean acquiresSurviveInterrupts() {
        return true;
    }

    /**
     * Returns the address (host and port) of the backend that {@link #newProvider(String)} talks to, so that
     * the kit can put a loopback proxy in front of it. {@code null} (the default) skips the tests that cut a
     * client off from its backend.
     *
     * @return the backend's address, or {@code null}
     */
    protected @Nullable InetSocketAddress backendAddress() {
        return null;
    }

    /**
     * Returns a new client of the same backend and namespace as {@link #newProvider(String)} that connects
     * to the backend through {@code proxy} (a loopback proxy that forwards to {@link #backendAddress()}),
     * so the kit can cut it off by making the proxy drop traffic. {@code null} (the default) skips those
     * tests. The kit closes what it gets.
     *
     * @param id    the id the provider must report: {@value #PROVIDER_ID}
     * @param proxy where the provider must connect instead of the backend
     * @return a client behind the proxy, or {@code null}
     */
    protected @Nullable LockingProvider newProviderThrough(String id, InetSocketAddress proxy) {
        return null;
    }

    /**
     * Writes, where the backend would keep the lock of {@code key} (and its bookkeeping: counters, indexes),
     * data that this provider did not write and cannot read as a lock (a value of another type or shape), as
     * a foreign program or an operator's mistake would. The kit then checks that calls on that key fail with
     * a {@link dev.locking.api.LockingException} naming the key, change nothing, and do not disturb other
     * keys. Returns false (the default) when the backend has no such notion, which skips those tests. The
     * data stays behind (the kit cannot remove it); once it is planted, the kit's clean-up after each test
     * accepts a {@code releaseAll(null)} that releases every lock and then reports the foreign data with a
     * {@link dev.locking.api.LockingException} (not a {@link ProviderUnavailableException}).
     *
     * @param key a key the kit never locked before
     * @return whether foreign data was planted
     */
    protected boolean plantForeignData(String key) {
        return false;
    }

    /**
     * Returns how much later than the semantics' bound a holder cut off from its backend may see its handle
     * turn lost in {@code LostLeaseDeadline}. The semantics say: one lease after the last confirmed renewal
     * was sent, within 100 ms. The default, 400 milliseconds, is those 100 ms plus 300 ms for a busy machine
     * (the renewer's and the job's threads waiting for a core, a GC pause, the kit polling the handle every
     * millisecond). The kit measures from the moment it cut the connection, which is after that renewal.
     *
     * @return a non-negative duration
     */
    protected Duration lostLeaseAllowance() {
        return Duration.ofMillis(400);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lifecycle
    // ---------------------------------------------------------------------------------------------------------

    /** Builds the service of one test around the (shared) provider under test. */
    @BeforeEach
    protected final void tckSetUp() {
        LockingProvider p = provider();
        prefix = "tck-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        counted = new CountingProvider(p);
        locking = serviceAround(counted);
        pool = Executors.newCachedThreadPool(daemonThreads());
    }

    /** Stops the test's threads, closes its services and releases what it left behind. */
    @AfterEach
    protected final void tckTearDown() throws InterruptedException {
        boolean stopped = true;
        if (pool != null) { // null only when the first set-up failed
            pool.shutdownNow();
            stopped = pool.awaitTermination(patience().toMillis(), TimeUnit.MILLISECONDS);
        }
        if (locking != null) {
            locking.close();
        }
        LockingService second = secondLocking;
        secondLocking = null;
        secondCounted = null;
        if (second != null) {
            second.close();
        }
        LockingProvider p = backend;
        if (p != null) {
            try {
                p.releaseAll(null);
            } catch (LockingException e) {
                // The data a ForeignData test planted stays for good, and releaseAll() may report it every time.
                if (!foreignDataPlanted || e instanceof ProviderUnavailableException) {
                    throw e;
                }
            }
        }
        assertThat(stopped).as("every thread the test started has ended").isTrue();
    }

    /** Closes the providers the kit created. */
    @AfterAll
    protected final void tckCloseProviders() {
        LockingProvider first = backend;
        LockingProvider second = secondBackend;
        backend = null;
        secondBackend = null;
        secondClientAsked = false;
        try {
            if (second != null) {
                second.close();
            }
        } finally {
            if (first != null) {
                first.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // What tests (also a subclass's own) can use
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Returns the provider under test itself (not the counting wrapper the service uses), created on first use.
     *
     * @return the provider under test
     */
    protected final LockingProvider provider() {
        LockingProvider p = backend;
        if (p == null) {
            p = newProvider(PROVIDER_ID);
            assertThat(p.id()).as("id() of the provider newProvider(\"%s\") returned", PROVIDER_ID)
                    .isEqualTo(PROVIDER_ID);
            backend = p;
        }
        return p;
    }

    /**
     * Returns this test's service; its default provider is the provider under test.
     *
     * @return the service
     */
    protected final LockingService locking() {
        return locking;
    }

    /**
     * Returns a key that no other test uses.
     *
     * @param name a name, unique within the test
     * @return the test's prefix followed by {@code name}
     */
    protected final String key(String name) {
        return prefix + name;
    }

    private LockingService serviceAround(LockingProvider provider) {
        return Locking.builder().provider(provider).defaultProvider(PROVIDER_ID).build();
    }

    /** The service of the second client; skips the test when the provider has none. */
    private LockingService second() {
        LockingService s = secondLocking;
        if (s != null) {
            return s;
        }
        if (!secondClientAsked) {
            secondClientAsked = true;
            secondBackend = newSecondClient(PROVIDER_ID);
        }
        LockingProvider p = secondBackend;
        if (p == null) {
            return abort("newSecondClient returned null: the provider has no second client of one backend");
        }
        CountingProvider c = new CountingProvider(p);
        s = serviceAround(c);
        secondCounted = c;
        secondLocking = s;
        return s;
    }

    private CountingProvider secondCounted() {
        CountingProvider c = secondCounted;
        if (c == null) {
            second();
            c = secondCounted;
        }
        assertThat(c).isNotNull();
        return c;
    }

    private Optional<LockInfo> held(String key) {
        return provider().inspect(key);
    }

    private LockInfo assertHeld(String key) {
        Optional<LockInfo> info = held(key);
        assertThat(info).as("inspect(%s)", key).isPresent();
        LockInfo lock = info.get();
        assertThat(lock.key()).isEqualTo(key);
        return lock;
    }

    private void assertFree(String... keys) {
        for (String k : keys) {
            assertThat(held(k)).as("inspect(%s) of a key that must be free", k).isEmpty();
        }
    }

    private Map<String, Optional<LockInfo>> snapshot(String... keys) {
        Map<String, Optional<LockInfo>> snapshot = new LinkedHashMap<>();
        for (String k : keys) {
            snapshot.put(k, held(k));
        }
        return snapshot;
    }

    /** Checks that every key is as it was: free, or held by the same owner with the same token and expiry. */
    private void assertUnchanged(Map<String, Optional<LockInfo>> before) {
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

    private void assertCloseTo(@Nullable Instant actual, @Nullable Instant expected, String what) {
        if (expected == null) {
            assertThat(actual).as(what + " (never expires)").isNull();
        } else {
            assertThat(actual).as(what).isNotNull().isCloseTo(expected, within(clockTolerance().toMillis(), ChronoUnit.MILLIS));
        }
    }

    /** Checks that an expiry is {@code expire} after a moment between {@code before} and {@code after}. */
    private void assertExpiresAbout(@Nullable Instant expiresAt, Instant before, Instant after, Duration expire,
            String what) {
        assertThat(expiresAt).as(what + " must be set").isNotNull();
        assertThat(expiresAt).as(what)
                .isBetween(before.plus(expire).minus(clockTolerance()), after.plus(expire).plus(clockTolerance()));
    }

    private ConditionFactory waiting() {
        return Awaitility.await().atMost(patience()).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
    }

    /** Waits until the key is free, at most {@code bound}. */
    private void awaitFree(String key, Duration bound) {
        waiting().atMost(bound).until(() -> held(key).isEmpty());
    }

    /** How long a lock with {@link #shortLease()} may take to show as free. */
    private Duration lapseBound() {
        return shortLease().plus(clockTolerance()).plus(Duration.ofSeconds(2));
    }

    /** Waits until {@code duration} has passed since {@code startNanos} (time passing, not synchronisation). */
    private void awaitElapsed(long startNanos, Duration duration) {
        waiting().atMost(duration.plus(patience()))
                .until(() -> System.nanoTime() - startNanos >= duration.toNanos());
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private static AcquireOptions owner(@Nullable String ownerId) {
        return AcquireOptions.builder().ownerId(ownerId).build();
    }

    private static AcquireOptions owner(@Nullable String ownerId, Duration expire) {
        return AcquireOptions.builder().ownerId(ownerId).expire(expire).build();
    }

    private static ReleaseOptions by(@Nullable String ownerId) {
        return ReleaseOptions.builder().ownerId(ownerId).build();
    }

    private static ExecuteOptions waitUpTo(Duration timeout) {
        return ExecuteOptions.builder().timeout(timeout).build();
    }

    private ExecuteOptions patiently() {
        return waitUpTo(patience());
    }

    private static String acquireFailed(String key) {
        return "Failed to acquire lock for key \"" + key + "\"";
    }

    private static long token(Lease lease, String key) {
        Long token = lease.fencingTokens().get(key);
        assertThat(token).as("fencing token of %s in %s", key, lease).isNotNull();
        return token;
    }

    private static long token(AcquireResult result, String key) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        Long token = ((AcquireResult.Acquired) result).fencingTokens().get(key);
        assertThat(token).as("fencing token of %s in %s", key, result).isNotNull();
        return token;
    }

    private void assertAcquireFails(ThrowingCallable call, String conflictingKey) {
        assertThatThrownBy(call)
                .isInstanceOf(LockAcquisitionException.class)
                .hasMessage(acquireFailed(conflictingKey))
                .satisfies(e -> assertThat(((LockAcquisitionException) e).getKey()).isEqualTo(conflictingKey));
    }

    private <T> Future<T> async(Callable<T> task) {
        return pool.submit(task);
    }

    private <T> T result(Future<T> future) throws InterruptedException {
        try {
            return future.get(patience().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("the task failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("the task did not finish within " + patience(), e);
        }
    }

    /** What a call did: its value or what it threw, and whether its thread was interrupted right after. */
    private record Outcome(@Nullable Object value, @Nullable Throwable thrown, boolean interruptedAfter) {
        Throwable failure() {
            Throwable t = thrown;
            if (t == null) {
                throw new AssertionError("the call returned " + value + " instead of throwing");
            }
            return t;
        }
    }

    private static Outcome capture(Callable<?> call) {
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
    private record Running(Future<Outcome> outcome, Thread thread) {}

    private Running start(Callable<?> call) throws InterruptedException {
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
    private static void pause() {
        LockSupport.parkNanos(100_000);
    }

    private static ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "tck-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Tracks overlapping jobs: how many are inside now, the most seen, and an unsynchronised counter. */
    private static final class CriticalSection {
        private final AtomicInteger inside = new AtomicInteger();
        private final AtomicInteger overlaps = new AtomicInteger();
        private int counter; // deliberately unsynchronised: only the lock protects it

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

    // =========================================================================================================
    // The semantics table of DESIGN.md, row by row
    // =========================================================================================================

    @Nested
    @DisplayName("acquire on free keys: all taken at once, a fencing token per key")
    class AcquireOnFreeKeys {

        @Test
        void takesEveryKeyAtOnce_withATokenPerKey() {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            Lease lease = locking.acquire(List.of(c, a, b), owner("owner-1"));

            assertThat(lease.providerId()).isEqualTo(PROVIDER_ID);
            assertThat(lease.keys()).containsExactly(a, b, c);
            assertThat(lease.ownerId()).isEqualTo("owner-1");
            assertThat(lease.expiresAt()).isNull();
            assertThat(lease.fencingTokens()).containsOnlyKeys(a, b, c);
            for (String k : List.of(a, b, c)) {
                LockInfo info = assertHeld(k);
                assertThat(info.ownerId()).isEqualTo("owner-1");
                assertThat(info.expiresAt()).isNull();
                assertThat(info.fencingToken()).isEqualTo(lease.fencingTokens().get(k));
                assertThat(locking.inspect(k)).contains(info);
            }
        }

        @Test
        void withExpire_theLeaseEndsExpireFromNow() {
            String a = key("a");
            Duration expire = Duration.ofSeconds(60);
            Instant before = Instant.now();
            Lease lease = locking.acquire(a, owner("owner-1", expire));
            Instant after = Instant.now();

            assertExpiresAbout(lease.expiresAt(), before, after, expire, "Lease.expiresAt");
            assertCloseTo(assertHeld(a).expiresAt(), lease.expiresAt(), "inspect's expiresAt");
        }

        @Test
        void withoutOptions_theLockIsAnonymousAndNeverExpires() {
            String a = key("a");
            Lease lease = locking.acquire(a);

            assertThat(lease.keys()).containsExactly(a);
            assertThat(lease.ownerId()).isNull();
            assertThat(lease.expiresAt()).isNull();
            LockInfo info = assertHeld(a);
            assertThat(info.ownerId()).isNull();
            assertThat(info.expiresAt()).isNull();
            assertThat(info.fencingToken()).isEqualTo(lease.fencingTokens().get(a));
        }

        @Test
        void duplicateKeys_countOnce_andLeaseKeysAreSorted() {
            String a = key("a");
            String b = key("b");
            Lease lease = locking.acquire(List.of(b, a, b, a), owner("owner-1"));

            assertThat(lease.keys()).containsExactly(a, b);
            assertThat(lease.fencingTokens()).containsOnlyKeys(a, b);
            assertThat(locking.release(List.of(a, a, b), by("owner-1"))).as("release of duplicated keys").isTrue();
            assertFree(a, b);
        }

        @Test
        void spi_tryAcquire_onFreeKeys_returnsATokenPerKey() {
            String a = key("a");
            String b = key("b");
            Duration lease = Duration.ofSeconds(60);
            Instant before = Instant.now();
            AcquireResult result = provider().tryAcquire(List.of(a, b), "owner-1", lease);
            Instant after = Instant.now();

            assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
            AcquireResult.Acquired acquired = (AcquireResult.Acquired) result;
            assertThat(acquired.fencingTokens()).containsOnlyKeys(a, b);
            assertExpiresAbout(acquired.expiresAt(), before, after, lease, "Acquired.expiresAt");
            assertThat(assertHeld(b).fencingToken()).isEqualTo(acquired.fencingTokens().get(b));

            AcquireResult never = provider().tryAcquire(List.of(key("c")), null, null);
            assertThat(never).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(((AcquireResult.Acquired) never).expiresAt()).isNull();
        }
    }

    @Nested
    @DisplayName("acquire by the same owner: re-entry, expiry reset only with expire, tokens unchanged")
    class SameOwnerReentry {

        @Test
        void withExpire_resetsTheLeaseToNowPlusExpire_andKeepsTheTokens() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(List.of(a, b), owner("owner-1", Duration.ofSeconds(10)));

            Duration longer = Duration.ofSeconds(60);
            Instant before = Instant.now();
            Lease second = locking.acquire(List.of(a, b), owner("owner-1", longer));
            Instant after = Instant.now();
            assertExpiresAbout(second.expiresAt(), before, after, longer, "re-entry with a longer expire");
            assertThat(second.fencingTokens()).isEqualTo(first.fencingTokens());
            for (String k : List.of(a, b)) {
                LockInfo info = assertHeld(k);
                assertThat(info.ownerId()).isEqualTo("owner-1");
                assertThat(info.fencingToken()).isEqualTo(first.fencingTokens().get(k));
                assertCloseTo(info.expiresAt(), second.expiresAt(), "inspect's expiresAt of " + k);
            }

            // "Reset", not "extend": a shorter expire shortens the lease.
            Duration shorter = Duration.ofSeconds(5);
            before = Instant.now();
            Lease third = locking.acquire(List.of(a, b), owner("owner-1", shorter));
            after = Instant.now();
            assertExpiresAbout(third.expiresAt(), before, after, shorter, "re-entry with a shorter expire");
            assertThat(third.fencingTokens()).isEqualTo(first.fencingTokens());
        }

        @Test
        void withoutExpire_keepsTheOldExpiry_andTheTokens() {
            String a = key("a");
            Lease first = locking.acquire(a, owner("owner-1", Duration.ofSeconds(30)));
            long start = System.nanoTime();
            // Let time pass, so that a lease wrongly reset to "now + something" shows.
            awaitElapsed(start, clockTolerance().multipliedBy(3).plusMillis(200));

            Lease second = locking.acquire(a, owner("owner-1"));
            assertThat(second.expiresAt()).as("re-entry without expire keeps an expiry").isNotNull();
            assertCloseTo(second.expiresAt(), first.expiresAt(), "re-entry without expire");
            assertThat(second.fencingTokens()).isEqualTo(first.fencingTokens());
            LockInfo info = assertHeld(a);
            assertCloseTo(info.expiresAt(), first.expiresAt(), "inspect's expiresAt");
            assertThat(info.fencingToken()).isEqualTo(first.fencingTokens().get(a));
        }

        @Test
        void onANeverExpiringLock_withoutExpireStaysNeverExpiring_withExpireGetsALease() {
            String a = key("a");
            Lease first = locking.acquire(a, owner("owner-1"));

            Lease again = locking.acquire(a, owner("owner-1"));
            assertThat(again.expiresAt()).isNull();
            assertThat(assertHeld(a).expiresAt()).isNull();
            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());

            Duration expire = Duration.ofSeconds(60);
            Instant before = Instant.now();
            Lease leased = locking.acquire(a, owner("owner-1", expire));
            Instant after = Instant.now();
            assertExpiresAbout(leased.expiresAt(), before, after, expire, "re-entry with expire");
            assertThat(leased.fencingTokens()).isEqualTo(first.fencingTokens());
        }

        @Test
        void onMoreKeysThanItHolds_reentersTheHeldOnes_andTakesTheFreeOnes() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(a, owner("owner-1"));
            Lease wider = locking.acquire(List.of(a, b), owner("owner-1"));

            assertThat(wider.fencingTokens().get(a)).isEqualTo(first.fencingTokens().get(a));
            assertThat(wider.fencingTokens()).containsKey(b);
            assertThat(assertHeld(b).ownerId()).isEqualTo("owner-1");
        }

        @Test
        void spi_tryAcquire_bySameOwner_keepsTheTokens() {
            String a = key("a");
            AcquireResult first = provider().tryAcquire(List.of(a), "owner-1", Duration.ofSeconds(30));
            AcquireResult again = provider().tryAcquire(List.of(a), "owner-1", Duration.ofSeconds(60));

            assertThat(first).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(again).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(((AcquireResult.Acquired) again).fencingTokens())
                    .isEqualTo(((AcquireResult.Acquired) first).fencingTokens());
        }
    }

    @Nested
    @DisplayName("acquire on a key held by someone else: LockAcquisitionException, no key changes")
    class HeldBySomeoneElse {

        @Test
        void heldByAnotherOwner() {
            String a = key("a");
            locking.acquire(a, owner("owner-1", Duration.ofSeconds(60)));
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertAcquireFails(() -> locking.acquire(a, owner("owner-2")), a);
            assertAcquireFails(() -> locking.acquire(a, owner("owner-2", Duration.ofSeconds(5))), a);
            assertAcquireFails(() -> locking.acquire(a), a);
            assertUnchanged(before);
        }

        @Test
        void heldAnonymously_isReenteredByNobody() {
            String a = key("a");
            locking.acquire(a);
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertAcquireFails(() -> locking.acquire(a), a);
            assertAcquireFails(() -> locking.acquire(a, owner(null, Duration.ofSeconds(5))), a);
            assertAcquireFails(() -> locking.acquire(a, owner("owner-1")), a);
            assertUnchanged(before);
        }

        @Test
        void severalKeys_reportTheFirstConflictInSortedOrder_andChangeNoKey() {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            String d = key("d");
            locking.acquire(b, owner("owner-1", Duration.ofSeconds(60)));
            locking.acquire(c);
            Map<String, Optional<LockInfo>> before = snapshot(a, b, c, d);

            assertAcquireFails(() -> locking.acquire(List.of(d, c, b, a), owner("owner-2", Duration.ofSeconds(30))), b);
            assertAcquireFails(() -> locking.acquire(List.of(d, c, a), owner("owner-2")), c);
            assertAcquireFails(() -> locking.acquire(List.of(d, c, b, a), AcquireOptions.DEFAULTS), b);
            assertUnchanged(before);
        }

        @Test
        void aFailedReentry_leavesTheOwnersOtherKeysAsTheyWere() {
            String a = key("a");
            String b = key("b");
            locking.acquire(a, owner("owner-1", Duration.ofSeconds(10)));
            locking.acquire(b, owner("owner-2"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);

            // owner-1 holds a; the call fails on b, so a's lease must not be reset to 60 s.
            assertAcquireFails(() -> locking.acquire(List.of(a, b), owner("owner-1", Duration.ofSeconds(60))), b);
            assertUnchanged(before);
        }

        @Test
        void spi_tryAcquire_returnsTheFirstConflictingKey_andChangesNothing() {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            provider().tryAcquire(List.of(b), "owner-1", null);
            provider().tryAcquire(List.of(c), null, null);
            Map<String, Optional<LockInfo>> before = snapshot(a, b, c);

            assertThat(provider().tryAcquire(List.of(a, b, c), "owner-2", Duration.ofSeconds(30)))
                    .isEqualTo(new AcquireResult.Conflict(b));
            assertThat(provider().tryAcquire(List.of(a, c), null, null)).isEqualTo(new AcquireResult.Conflict(c));
            assertUnchanged(before);
        }
    }

    @Nested
    @DisplayName("acquire on a key whose lease has lapsed: free, with a higher fencing token")
    class LapsedLease {

        @Test
        void aLapsedKeyIsFree_releaseGivesFalse_andTheNextAcquireGetsAHigherToken() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(List.of(a, b), owner("owner-1", shortLease()));
            Lease anonymous = locking.acquire(key("c"), owner(null, shortLease()));
            assertHeld(a);

            awaitFree(a, lapseBound());
            awaitFree(b, lapseBound());
            awaitFree(key("c"), lapseBound());
            assertThat(locking.inspect(a)).isEmpty();
            assertThat(locking.release(a, by("owner-1"))).as("release of a lapsed lock").isFalse();

            Lease next = locking.acquire(List.of(a, b), owner("owner-2"));
            assertThat(next.fencingTokens().get(a)).isGreaterThan(first.fencingTokens().get(a));
            assertThat(next.fencingTokens().get(b)).isGreaterThan(first.fencingTokens().get(b));
            Lease nextAnonymous = locking.acquire(key("c"));
            assertThat(nextAnonymous.fencingTokens().get(key("c")))
                    .isGreaterThan(anonymous.fencingTokens().get(key("c")));
        }
    }

    @Nested
    @DisplayName("acquire without expire: the lock never expires")
    class WithoutExpire {

        @Test
        void theLockNeverLapses() {
            String a = key("a");
            String b = key("b");
            String leased = key("leased");
            Lease owned = locking.acquire(a, owner("owner-1"));
            locking.acquire(b);
            locking.acquire(leased, owner("owner-1", shortLease()));

            assertThat(owned.expiresAt()).isNull();
            awaitFree(leased, lapseBound());
            awaitElapsed(System.nanoTime(), shortLease());

            for (String k : List.of(a, b)) {
                assertThat(assertHeld(k).expiresAt()).as("expiresAt of %s", k).isNull();
            }
            assertAcquireFails(() -> locking.acquire(a, owner("owner-2")), a);
        }
    }

    @Nested
    @DisplayName("release: anonymous by anyone, owned by its owner only; true only if every key was released")
    class Release {

        @Test
        void anAnonymousLock_isReleasedByAnyone() {
            String a = key("a");
            String b = key("b");
            locking.acquire(a);
            locking.acquire(b);

            assertThat(locking.release(a)).isTrue();
            assertThat(locking.release(b, by("someone"))).isTrue();
            assertFree(a, b);
        }

        @Test
        void anOwnedLock_isReleasedByItsOwnerOnly() {
            String a = key("a");
            locking.acquire(a, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertThat(locking.release(a, by("owner-2"))).isFalse();
            assertUnchanged(before);
            assertThat(locking.release(a, by("owner-1"))).isTrue();
            assertFree(a);
        }

        @Test
        void anOwnedLock_isLeftAloneWhenNoOwnerIsGiven() {
            String a = key("a");
            locking.acquire(a, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertThat(locking.release(a)).isFalse();
            assertThat(locking.release(List.of(a), ReleaseOptions.DEFAULTS)).isFalse();
            assertUnchanged(before);
        }

        @Test
        void aKeyNotHeld_givesFalse() {
            String a = key("a");
            assertThat(locking.release(a)).isFalse();
            assertThat(locking.release(a, by("owner-1"))).isFalse();
            assertFree(a);
        }

        @Test
        void severalKeys_trueOnlyIfEveryKeyWasReleased() {
            String mine = key("mine");
            String free = key("free");
            locking.acquire(mine, owner("owner-1"));
            assertThat(locking.release(List.of(mine, free), by("owner-1"))).as("one key was not held").isFalse();
            assertFree(mine);

            String mine2 = key("mine2");
            String theirs = key("theirs");
            locking.acquire(mine2, owner("owner-1"));
            locking.acquire(theirs, owner("owner-2"));
            Map<String, Optional<LockInfo>> theirsBefore = snapshot(theirs);
            assertThat(locking.release(List.of(theirs, mine2), by("owner-1"))).as("one key is another's").isFalse();
            assertFree(mine2);
            assertUnchanged(theirsBefore);

            String mine3 = key("mine3");
            String anonymous = key("anonymous");
            locking.acquire(mine3, owner("owner-1"));
            locking.acquire(anonymous);
            assertThat(locking.release(List.of(mine3, anonymous), by("owner-1"))).isTrue();
            assertFree(mine3, anonymous);
        }

        @Test
        void spi_release_followsTheSameRules() {
            String owned = key("owned");
            String anonymous = key("anonymous");
            provider().tryAcquire(List.of(owned), "owner-1", null);
            provider().tryAcquire(List.of(anonymous), null, null);

            assertThat(provider().release(List.of(owned), null)).as("owned key, no owner").isFalse();
            assertThat(provider().release(List.of(owned), "owner-2")).as("owned key, other owner").isFalse();
            assertHeld(owned);
            assertThat(provider().release(List.of(anonymous, owned), "owner-1")).isTrue();
            assertFree(anonymous, owned);
            assertThat(provider().release(List.of(owned), "owner-1")).as("key not held").isFalse();
        }
    }

    @Nested
    @DisplayName("releaseAll(owner) releases that owner's locks only; releaseAll() releases every lock")
    class ReleaseAll {

        @Test
        void ofAnOwner_releasesEveryLockOfThatOwner_andNothingElse() {
            String a1 = key("a1");
            String a2 = key("a2");
            String a3 = key("a3");
            String b = key("b");
            String n = key("n");
            locking.acquire(List.of(a1, a2), owner("owner-a"));
            locking.acquire(a3, owner("owner-a", Duration.ofSeconds(60)));
            locking.acquire(b, owner("owner-b"));
            locking.acquire(n);
            Map<String, Optional<LockInfo>> others = snapshot(b, n);

            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-nobody").build());
            assertHeld(a1);
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-a").build());

            assertFree(a1, a2, a3);
            assertUnchanged(others);
            locking.acquire(a1, owner("owner-b"));
        }

        @Test
        void withoutOwner_releasesEveryLock() {
            String a = key("a");
            String b = key("b");
            String n = key("n");
            locking.acquire(a, owner("owner-a"));
            locking.acquire(b, owner("owner-b", Duration.ofSeconds(60)));
            locking.acquire(n);

            locking.releaseAll();

            assertFree(a, b, n);
            locking.acquire(List.of(a, b, n), owner("owner-c"));
        }

        @Test
        void spi_releaseAll_ofAnOwnerAndOfEveryone() {
            String a = key("a");
            String b = key("b");
            String n = key("n");
            provider().tryAcquire(List.of(a), "owner-a", null);
            provider().tryAcquire(List.of(b), "owner-b", null);
            provider().tryAcquire(List.of(n), null, null);

            provider().releaseAll("owner-a");
            assertFree(a);
            assertHeld(b);
            assertHeld(n);

            provider().releaseAll(null);
            assertFree(a, b, n);
        }
    }

    @Nested
    @DisplayName("execute: waits up to the timeout (default 5 s), runs the job, always releases")
    class Execute {

        @Test
        void runsTheJobWithEveryKeyHeld_underAFreshOwner_andReleasesThem() {
            String a = key("a");
            String b = key("b");
            List<String> owners = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Instant before = Instant.now();
                String result = locking.execute(List.of(b, a, b), lock -> {
                    Instant after = Instant.now();
                    assertThat(lock.keys()).containsExactly(a, b);
                    assertThat(lock.providerId()).isEqualTo(PROVIDER_ID);
                    assertThat(lock.isLost()).isFalse();
                    lock.throwIfLost();
                    for (String k : List.of(a, b)) {
                        LockInfo info = assertHeld(k);
                        assertThat(info.ownerId()).as("execute locks under an owner").isNotNull();
                        assertThat(info.fencingToken()).isEqualTo(lock.fencingToken(k));
                        assertExpiresAbout(info.expiresAt(), before, after, ExecuteOptions.DEFAULT_EXPIRE,
                                "expiry of an execute lock (default lease)");
                    }
                    owners.add(String.valueOf(assertHeld(a).ownerId()));
                    return "done";
                });
                assertThat(result).isEqualTo("done");
                assertFree(a, b);
            }
            assertThat(owners.get(1)).as("each execute has a fresh owner").isNotEqualTo(owners.get(0));
        }

        @Test
        void othersCannotTakeTheKeysWhileTheJobRuns() {
            String a = key("a");
            locking.execute(a, lock -> {
                assertAcquireFails(() -> locking.acquire(a), a);
                assertAcquireFails(() -> locking.acquire(a, owner("owner-1")), a);
                assertThat(locking.release(a)).as("release without the execute's owner").isFalse();
                assertHeld(a);
                return "done";
            });
            assertFree(a);
        }

        @Test
        void withoutAPositiveTimeout_waitsTheDefaultFiveSeconds() throws Exception {
            String a = key("a");
            locking.acquire(a);
            AtomicInteger ran = new AtomicInteger();
            List<Callable<Object>> calls = List.of(
                    () -> locking.execute(a, lock -> ran.incrementAndGet()),
                    () -> locking.execute(a, lock -> ran.incrementAndGet(), null),
                    () -> locking.execute(a, lock -> ran.incrementAndGet(), waitUpTo(Duration.ZERO)),
                    () -> locking.execute(a, lock -> ran.incrementAndGet(), waitUpTo(Duration.ofSeconds(-1))));
            List<Future<Duration>> waits = new ArrayList<>();
            for (Callable<Object> call : calls) {
                waits.add(async(() -> {
                    long start = System.nanoTime();
                    Throwable thrown = catchThrowable(call::call);
                    assertThat(thrown).isInstanceOf(LockTimeoutException.class).hasMessage("Timed-out acquiring lock.");
                    return since(start);
                }));
            }
            for (Future<Duration> wait : waits) {
                assertThat(result(wait)).isBetween(ExecuteOptions.DEFAULT_TIMEOUT.minusMillis(50),
                        ExecuteOptions.DEFAULT_TIMEOUT.plus(patience()));
            }
            assertThat(ran).hasValue(0);
        }

        @Test
        void anExplicitTimeout_endsTheWait() {
            String a = key("a");
            locking.acquire(a);
            long start = System.nanoTime();
            assertThatThrownBy(() -> locking.execute(a, lock -> "ran", waitUpTo(Duration.ofSeconds(1))))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessage("Timed-out acquiring lock.");
            assertThat(since(start)).isBetween(Duration.ofMillis(950), Duration.ofMillis(4500));
        }

        @Test
        void onTimeout_theJobNeverRan_andNothingStaysLocked() {
            String a = key("a");
            String b = key("b");
            locking.acquire(b, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);
            AtomicBoolean ran = new AtomicBoolean();

            assertThatThrownBy(() -> locking.execute(List.of(a, b), lock -> ran.getAndSet(true),
                    waitUpTo(Duration.ofSeconds(1))))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessage(LockTimeoutException.MESSAGE);
            assertThat(ran).isFalse();
            assertUnchanged(before);
            assertThat(locking.release(b, by("owner-1"))).isTrue();
            assertFree(a, b);
        }

        @Test
        void anUncheckedExceptionOfTheJob_propagatesUnchanged_andTheKeysAreReleased() {
            String a = key("a");
            String b = key("b");
            IllegalStateException boom = new IllegalStateException("boom");
            Throwable thrown = catchThrowable(() -> locking.execute(List.of(a, b), lock -> {
                throw boom;
            }));
            assertThat(thrown).isSameAs(boom);
            assertFree(a, b);
        }

        @Test
        void aCheckedExceptionOfTheJob_propagatesUnchanged_andTheKeysAreReleased() {
            String a = key("a");
            IOException io = new IOException("disk full");
            LockedJob<String, IOException> job = lock -> {
                throw io;
            };
            try {
                locking.execute(a, job);
                fail("execute returned although the job threw");
            } catch (IOException e) {
                assertThat(e).isSameAs(io);
            }
            assertFree(a);
        }

        @Test
        void anErrorOfTheJob_propagatesUnchanged_andTheKeysAreReleased() {
            String a = key("a");
            StackOverflowError error = new StackOverflowError("simulated");
            Throwable thrown = catchThrowable(() -> locking.execute(a, lock -> {
                throw error;
            }));
            assertThat(thrown).isSameAs(error);
            assertFree(a);
        }
    }

    @Nested
    @DisplayName("execute wait: wakes on release, not only by polling; waiters do not starve")
    class ExecuteWait {

        private Future<Long> waiterEnteringAt(LockingService service, String key) {
            return async(() -> service.execute(key, lock -> System.nanoTime(), patiently()));
        }

        @Test
        void aWaiter_runsSoonAfterARelease_throughTheService() throws Exception {
            String a = key("a");
            locking.acquire(a);
            Future<Long> entered = waiterEnteringAt(locking, a);
            waiting().until(() -> counted.awaits() >= 1);

            long released = System.nanoTime();
            assertThat(locking.release(a)).isTrue();
            assertThat(Duration.ofNanos(result(entered) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void aWaiter_runsSoonAfterARelease_behindTheServicesBack() throws Exception {
            String a = key("a");
            provider().tryAcquire(List.of(a), "outsider", null);
            Future<Long> entered = waiterEnteringAt(locking, a);
            waiting().until(() -> counted.awaits() >= 1);

            long released = System.nanoTime();
            assertThat(provider().release(List.of(a), "outsider")).isTrue();
            assertThat(Duration.ofNanos(result(entered) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void aWaiter_runsSoonAfterTheHoldersLeaseLapses() throws Exception {
            String a = key("a");
            long acquired = System.nanoTime();
            locking.acquire(a, owner("owner-1", shortLease()));
            Future<Long> entered = waiterEnteringAt(locking, a);

            assertThat(Duration.ofNanos(result(entered) - acquired))
                    .isGreaterThanOrEqualTo(shortLease().minus(clockTolerance()))
                    .isLessThan(shortLease().plus(clockTolerance()).plus(wakeUpWithin()));
        }

        @Test
        void waitersDoNotStarve_whileAnotherThreadLocksTheKeyAgainAndAgain() throws Exception {
            String a = key("a");
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger hogRounds = new AtomicInteger();
            Future<Integer> hog = async(() -> {
                while (!stop.get()) {
                    locking.execute(a, lock -> {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // work under the lock
                        return hogRounds.incrementAndGet();
                    }, patiently());
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // work outside it
                }
                return hogRounds.get();
            });
            waiting().until(() -> hogRounds.get() >= 2);

            List<Future<Long>> waiters = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                waiters.add(waiterEnteringAt(locking, a));
            }
            try {
                for (Future<Long> waiter : waiters) {
                    assertThat(result(waiter)).isPositive();
                }
            } finally {
                stop.set(true);
            }
            assertThat(result(hog)).isGreaterThanOrEqualTo(2);
        }
    }

    @Nested
    @DisplayName("execute lease: renewed while the job runs; a lost lease interrupts the job and throws")
    class ExecuteLease {

        @Test
        void theLeaseIsRenewed_whileTheJobRunsPastIt() throws Exception {
            String a = key("a");
            Duration lease = shortLease();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            Future<String> job = async(() -> locking.execute(a, lock -> {
                started.countDown();
                if (!finish.await(patience().toMillis(), TimeUnit.MILLISECONDS)) {
                    return "the test never let the job finish";
                }
                return lock.isLost() ? "lost" : "done";
            }, ExecuteOptions.builder().expire(lease).timeout(patience()).build()));
            assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            long start = System.nanoTime();
            LockInfo first = assertHeld(a);

            awaitElapsed(start, lease.multipliedBy(3));
            LockInfo info = assertHeld(a);
            assertThat(info.ownerId()).isEqualTo(first.ownerId());
            assertThat(info.fencingToken()).isEqualTo(first.fencingToken());
            assertThat(info.expiresAt()).as("the renewed expiry").isNotNull().isAfter(Instant.now().minus(clockTolerance()));
            assertAcquireFails(() -> locking.acquire(a, owner("intruder")), a);
            assertThat(provider().tryAcquire(List.of(a), "intruder", null)).isEqualTo(new AcquireResult.Conflict(a));

            finish.countDown();
            assertThat(result(job)).isEqualTo("done");
            assertFree(a);
        }

        @Test
        void aLostLease_interruptsTheJob_andExecuteThrowsLockLostException() throws Exception {
            String a = key("a");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            AtomicBoolean lostWhenInterrupted = new AtomicBoolean();
            AtomicReference<Throwable> throwIfLost = new AtomicReference<>();
            Future<Outcome> outcome = async(() -> capture(() -> locking.execute(a, lock -> {
                started.countDown();
                try {
                    boolean opened = never.await(patience().toMillis(), TimeUnit.MILLISECONDS);
                    return "the job was not interrupted (latch opened: " + opened + ")";
                } catch (InterruptedException e) {
                    lostWhenInterrupted.set(lock.isLost());
                    throwIfLost.set(catchThrowable(lock::throwIfLost));
                    return "interrupted";
                }
            }, ExecuteOptions.builder().expire(shortLease()).timeout(patience()).build())));
            assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            locking.releaseAll(); // the lock disappears behind the running job's back

            Outcome o = result(outcome);
            assertThat(o.failure()).isInstanceOf(LockLostException.class);
            assertThat(o.interruptedAfter()).as("interrupt flag after execute threw").isFalse();
            assertThat(lostWhenInterrupted).as("handle.isLost() when the job was interrupted").isTrue();
            assertThat(throwIfLost.get()).isInstanceOf(LockLostException.class);
            assertFree(a);
        }

        @Test
        void aLostLease_isReportedAlsoWhenTheJobIgnoresTheInterrupt_andTheFlagIsCleared() throws Exception {
            String a = key("a");
            CountDownLatch started = new CountDownLatch(1);
            AtomicBoolean sawInterrupt = new AtomicBoolean();
            Future<Outcome> outcome = async(() -> capture(() -> locking.execute(a, lock -> {
                started.countDown();
                long deadline = System.nanoTime() + patience().toNanos();
                while (!Thread.currentThread().isInterrupted() && System.nanoTime() - deadline < 0) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // returns at once when interrupted
                }
                sawInterrupt.set(Thread.currentThread().isInterrupted() && lock.isLost());
                return "the job's result, to be discarded";
            }, ExecuteOptions.builder().expire(shortLease()).timeout(patience()).build())));
            assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            provider().releaseAll(null); // straight through the SPI: the core cannot know

            Outcome o = result(outcome);
            assertThat(sawInterrupt).as("the job saw the interrupt and a lost handle").isTrue();
            assertThat(o.failure()).isInstanceOf(LockLostException.class);
            assertThat(o.interruptedAfter()).as("interrupt flag after execute threw").isFalse();
            assertFree(a);
        }
    }

    @Nested
    @DisplayName("execute nested: held keys run at once, extra keys are taken and released by the nested call")
    class NestedExecute {

        @Test
        void aNestedCallOnKeysItsCallerHolds_runsAtOnce() {
            String a = key("a");
            String b = key("b");
            String result = locking.execute(List.of(a, b), outer -> {
                LockInfo before = assertHeld(a);
                long start = System.nanoTime();
                String inner = locking.execute(List.of(b, a), nested -> {
                    assertThat(nested.keys()).containsExactly(a, b);
                    assertThat(nested.fencingToken(a)).isEqualTo(outer.fencingToken(a));
                    return "inner";
                }, waitUpTo(Duration.ofSeconds(1)));
                assertThat(since(start)).as("a nested call does not wait on its caller").isLessThan(Duration.ofSeconds(1));
                assertThat(inner).isEqualTo("inner");
                LockInfo after = assertHeld(a);
                assertThat(after.ownerId()).isEqualTo(before.ownerId());
                assertThat(after.fencingToken()).isEqualTo(before.fencingToken());
                assertHeld(b);
                return "outer";
            });
            assertThat(result).isEqualTo("outer");
            assertFree(a, b);
        }

        @Test
        void aNestedCallOnMoreKeys_takesTheExtraOnes_andReleasesThemAtItsEnd() {
            String a = key("a");
            String b = key("b");
            locking.execute(a, outer -> {
                LockInfo before = assertHeld(a);
                locking.execute(List.of(a, b), nested -> {
                    assertThat(nested.keys()).containsExactly(a, b);
                    assertHeld(a);
                    assertHeld(b);
                    assertAcquireFails(() -> locking.acquire(b, owner("intruder")), b);
                    return "done";
                }, waitUpTo(Duration.ofSeconds(1)));
                assertFree(b);
                LockInfo after = assertHeld(a);
                assertThat(after.ownerId()).isEqualTo(before.ownerId());
                assertThat(after.fencingToken()).isEqualTo(before.fencingToken());
                return "done";
            });
            assertFree(a, b);
        }

        @Test
        void aNestedCallThatThrows_leavesTheOuterKeysHeld() {
            String a = key("a");
            String b = key("b");
            locking.execute(a, outer -> {
                IllegalStateException boom = new IllegalStateException("inner failed");
                Throwable thrown = catchThrowable(() -> locking.execute(List.of(a, b), nested -> {
                    throw boom;
                }));
                assertThat(thrown).isSameAs(boom);
                assertHeld(a);
                assertFree(b);
                return "done";
            });
            assertFree(a, b);
        }

        @Test
        void anotherThread_doesNotShareTheCallersKeys() throws Exception {
            String a = key("a");
            locking.execute(a, outer -> {
                Future<Outcome> other = async(() -> capture(
                        () -> locking.execute(a, lock -> "ran", waitUpTo(Duration.ofSeconds(1)))));
                assertThat(result(other).failure()).isInstanceOf(LockTimeoutException.class);
                return "done";
            });
            assertFree(a);
        }
    }

    @Nested
    @DisplayName("provider: null means the default; an unknown id gives ProviderNotFoundException")
    class Providers {

        @Test
        void theProviderUnderTest_isKnownAndTheDefault() {
            assertThat(locking.providerIds()).contains(PROVIDER_ID);
            assertThat(locking.defaultProviderId()).isEqualTo(PROVIDER_ID);
        }

        @Test
        void aNullProvider_meansTheDefault_andSoDoesItsId() {
            String a = key("a");
            String b = key("b");
            Lease lease = locking.acquire(a, AcquireOptions.builder().provider(null).build());
            assertThat(lease.providerId()).isEqualTo(PROVIDER_ID);
            assertHeld(a);
            assertThat(locking.inspect(a, null)).isPresent();
            assertThat(locking.inspect(a, PROVIDER_ID)).isPresent();
            assertThat(locking.release(a, ReleaseOptions.builder().provider(null).build())).isTrue();

            Lease named = locking.acquire(b, AcquireOptions.builder().provider(PROVIDER_ID).build());
            assertThat(named.providerId()).isEqualTo(PROVIDER_ID);
            assertThat(locking.release(b, ReleaseOptions.builder().provider(PROVIDER_ID).build())).isTrue();

            String viaExecute = locking.execute(a, LockHandle::providerId,
                    ExecuteOptions.builder().provider(null).build());
            assertThat(viaExecute).isEqualTo(PROVIDER_ID);
            locking.acquire(b, owner("owner-1"));
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-1").provider(null).build());
            assertFree(a, b);
        }

        @Test
        void anUnknownProvider_isRejectedWithTheKnownIds_andNothingReachesTheProvider() {
            String a = key("a");
            String unknown = "lp_no_such_provider";
            AtomicBoolean ran = new AtomicBoolean();
            CountingProvider.Calls before = counted.calls();
            List<ThrowingCallable> calls = List.of(
                    () -> locking.acquire(a, AcquireOptions.builder().provider(unknown).build()),
                    () -> locking.execute(a, lock -> ran.getAndSet(true), ExecuteOptions.builder().provider(unknown).build()),
                    () -> locking.release(a, ReleaseOptions.builder().provider(unknown).build()),
                    () -> locking.releaseAll(ReleaseAllOptions.builder().provider(unknown).build()),
                    () -> locking.inspect(a, unknown));
            for (ThrowingCallable call : calls) {
                Throwable thrown = catchThrowable(call);
                assertThat(thrown).isInstanceOf(ProviderNotFoundException.class);
                ProviderNotFoundException e = (ProviderNotFoundException) thrown;
                assertThat(e.getProviderId()).isEqualTo(unknown);
                assertThat(e.getAvailable()).containsExactlyInAnyOrderElementsOf(locking.providerIds());
                assertThat(e.getMessage()).contains(unknown);
                for (String id : locking.providerIds()) {
                    assertThat(e.getMessage()).as("the message names the known ids").contains(id);
                }
            }
            assertThat(ran).isFalse();
            assertThat(counted.calls()).isEqualTo(before);
            assertFree(a);
        }
    }

    @Nested
    @DisplayName("fencing tokens: strictly increase per key across release and expiry")
    class FencingTokens {

        @Test
        void increaseAcrossReleases_throughAcquireAndExecute() {
            String a = key("a");
            String b = key("b");
            long lastA = Long.MIN_VALUE;
            long lastB = Long.MIN_VALUE;
            for (int i = 0; i < 4; i++) {
                Lease lease = locking.acquire(List.of(a, b), owner(i % 2 == 0 ? null : "owner-" + i));
                assertThat(lease.fencingTokens().get(a)).isGreaterThan(lastA);
                assertThat(lease.fencingTokens().get(b)).isGreaterThan(lastB);
                lastA = token(lease, a);
                lastB = token(lease, b);
                assertThat(locking.release(List.of(a, b), by(lease.ownerId()))).isTrue();

                long[] tokens = locking.execute(List.of(a, b), lock -> new long[] {lock.fencingToken(a), lock.fencingToken(b)});
                assertThat(tokens[0]).isGreaterThan(lastA);
                assertThat(tokens[1]).isGreaterThan(lastB);
                lastA = tokens[0];
                lastB = tokens[1];
            }
            Lease last = locking.acquire(a);
            locking.releaseAll();
            assertThat(locking.acquire(a).fencingTokens().get(a)).isGreaterThan(last.fencingTokens().get(a));
        }

        @Test
        void increaseAcrossExpiry() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(List.of(a, b), owner("owner-1", shortLease()));
            awaitFree(a, lapseBound());
            awaitFree(b, lapseBound());
            Lease second = locking.acquire(List.of(b, a), owner("owner-1", shortLease()));
            assertThat(second.fencingTokens().get(a)).isGreaterThan(first.fencingTokens().get(a));
            assertThat(second.fencingTokens().get(b)).isGreaterThan(first.fencingTokens().get(b));
        }

        @Test
        void spi_increaseAcrossReleases() {
            String a = key("a");
            long last = Long.MIN_VALUE;
            for (int i = 0; i < 5; i++) {
                long token = token(provider().tryAcquire(List.of(a), "owner-1", null), a);
                assertThat(token).isGreaterThan(last);
                assertThat(assertHeld(a).fencingToken()).isEqualTo(token);
                last = token;
                assertThat(provider().release(List.of(a), "owner-1")).isTrue();
            }
        }
    }

    @Nested
    @DisplayName("bad input: IllegalArgumentException and nothing written")
    class BadInput {

        @TestFactory
        @SuppressWarnings("NullAway") // nulls are the point
        Stream<DynamicTest> isRejectedBeforeAnyProviderIsCalled() {
            String good = key("good");
            String tooLong = "k".repeat(LockingService.MAX_KEY_LENGTH + 1);
            List<String> nullKey = Arrays.asList(good, null);
            AtomicBoolean ran = new AtomicBoolean();
            LockedJob<Boolean, RuntimeException> job = lock -> ran.getAndSet(true);
            Map<String, ThrowingCallable> cases = new LinkedHashMap<>();
            cases.put("acquire(null list)", () -> locking.acquire((List<String>) null, AcquireOptions.DEFAULTS));
            cases.put("acquire(empty list)", () -> locking.acquire(List.of(), AcquireOptions.DEFAULTS));
            cases.put("acquire(null key in list)", () -> locking.acquire(nullKey, AcquireOptions.DEFAULTS));
            cases.put("acquire(null key)", () -> locking.acquire((String) null));
            cases.put("acquire(empty key)", () -> locking.acquire(List.of(good, ""), AcquireOptions.DEFAULTS));
            cases.put("acquire(1025-char key)", () -> locking.acquire(List.of(good, tooLong), AcquireOptions.DEFAULTS));
            cases.put("acquire(expire zero)", () -> locking.acquire(good, owner("owner-1", Duration.ZERO)));
            cases.put("acquire(expire negative)", () -> locking.acquire(good, owner(null, Duration.ofSeconds(-1))));
            cases.put("execute(null list)", () -> locking.execute((List<String>) null, job));
            cases.put("execute(empty list)", () -> locking.execute(List.of(), job));
            cases.put("execute(null key in list)", () -> locking.execute(nullKey, job));
            cases.put("execute(null key)", () -> locking.execute((String) null, job));
            cases.put("execute(empty key)", () -> locking.execute(List.of(good, ""), job));
            cases.put("execute(1025-char key)", () -> locking.execute(List.of(tooLong, good), job));
            cases.put("execute(expire zero)",
                    () -> locking.execute(good, job, ExecuteOptions.builder().expire(Duration.ZERO).build()));
            cases.put("execute(expire negative)",
                    () -> locking.execute(good, job, ExecuteOptions.builder().expire(Duration.ofMillis(-1)).build()));
            cases.put("release(null list)", () -> locking.release((List<String>) null, ReleaseOptions.DEFAULTS));
            cases.put("release(empty list)", () -> locking.release(List.of(), ReleaseOptions.DEFAULTS));
            cases.put("release(null key in list)", () -> locking.release(nullKey, ReleaseOptions.DEFAULTS));
            cases.put("release(null key)", () -> locking.release((String) null));
            cases.put("release(empty key)", () -> locking.release(""));
            cases.put("release(1025-char key)", () -> locking.release(List.of(good, tooLong), ReleaseOptions.DEFAULTS));
            cases.put("inspect(null key)", () -> locking.inspect((String) null));
            cases.put("inspect(empty key)", () -> locking.inspect(""));
            cases.put("inspect(1025-char key)", () -> locking.inspect(tooLong));
            return cases.entrySet().stream().map(c -> DynamicTest.dynamicTest(c.getKey(), () -> {
                CountingProvider.Calls before = counted.calls();
                assertThatThrownBy(c.getValue()).isInstanceOf(IllegalArgumentException.class);
                assertThat(counted.calls()).as("calls that reached the provider").isEqualTo(before);
                assertThat(ran).as("the job ran").isFalse();
                assertFree(good);
            }));
        }

        @Test
        void aKeyOf1024Characters_isAccepted() {
            String longest = (prefix + "k".repeat(LockingService.MAX_KEY_LENGTH)).substring(0, LockingService.MAX_KEY_LENGTH);
            Lease lease = locking.acquire(longest);
            assertThat(lease.keys()).containsExactly(longest);
            assertHeld(longest);
            assertThat(locking.release(longest)).isTrue();
        }
    }

    /**
     * A backend call that a pending interrupt cut short could leave its outcome unknown: the request went
     * out, the server took the lock, and the caller got an exception. The core does not let that happen
     * for an interrupt pending when a call starts: calls that do not wait do their work, and the flag is
     * still set afterwards for the caller's next blocking call to see.
     */
    @Nested
    @DisplayName("an interrupt pending when a call that does not wait starts: the call does its work, the flag stays set")
    class InterruptPendingAtACall {

        @Test
        void acquireInspectReleaseAndReleaseAll_doTheirWork() throws Exception {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            Running caller = start(() -> {
                Thread.currentThread().interrupt();
                Lease lease = locking.acquire(List.of(a, b), owner("owner-1", Duration.ofSeconds(60)));
                locking.acquire(c, owner("owner-2"));
                boolean seen = locking.inspect(a).isPresent();
                boolean released = locking.release(List.of(a, b), by("owner-1"));
                locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-2").build());
                return List.of(lease.keys(), seen, released);
            });

            Outcome o = result(caller.outcome());
            assertThat(o.thrown()).as("no call failed").isNull();
            assertThat(o.value()).isEqualTo(List.of(List.of(a, b), true, true));
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertFree(a, b, c);
        }

        @Test
        void executeOnFreeKeys_runsTheJob_andReleases() throws Exception {
            String a = key("a");
            Running caller = start(() -> {
                Thread.currentThread().interrupt();
                return locking.execute(a, lock -> locking.inspect(a).map(LockInfo::fencingToken)
                        .filter(token -> token == lock.fencingToken(a)).isPresent(), patiently());
            });

            Outcome o = result(caller.outcome());
            assertThat(o.thrown()).as("execute did not fail").isNull();
            assertThat(o.value()).as("the job ran holding the key").isEqualTo(true);
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertFree(a);
        }

        @Test
        void aJobThatLeavesItsThreadInterrupted_isStillReleased() throws Exception {
            String a = key("a");
            Running caller = start(() -> locking.execute(a, lock -> {
                Thread.currentThread().interrupt();
                return "done";
            }, patiently()));

            Outcome o = result(caller.outcome());
            assertThat(o.thrown()).as("execute did not fail").isNull();
            assertThat(o.value()).isEqualTo("done");
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertFree(a);
        }
    }

    /**
     * Interrupts that land while a call talks to the backend (no wait involved): a client library may give
     * up on a request the server then carries out. Whatever a provider does about it, a caller must never
     * be told "failed" about a lock it holds (nobody would release it), nor "taken" about one it does not.
     */
    @Nested
    @DisplayName("interrupts during acquire calls: a call that failed took nothing, one that returned holds its key")
    class InterruptsDuringCalls {

        @Test
        void acquireInterruptedAgainAndAgain_neverLeavesALockItReportedAsNotTaken() throws Exception {
            if (!acquiresSurviveInterrupts()) {
                abort("acquiresSurviveInterrupts returned false: the provider does not promise this yet");
            }
            int rounds = 200;
            locking.inspect(key("started")); // the provider is connected before the interrupts begin
            List<String> taken = new CopyOnWriteArrayList<>();
            List<String> failed = new CopyOnWriteArrayList<>();
            List<Throwable> unexpected = new CopyOnWriteArrayList<>();
            Thread caller = new Thread(() -> {
                for (int i = 0; i < rounds; i++) {
                    String k = key("int-" + i);
                    try {
                        locking.acquire(k, owner("owner-int"));
                        taken.add(k);
                    } catch (LockingException e) {
                        failed.add(k);
                    } catch (RuntimeException | Error e) {
                        unexpected.add(e);
                    }
                    Thread.interrupted();
                }
            }, "tck-interrupted-caller");
            Thread interrupter = new Thread(() -> {
                while (caller.isAlive()) {
                    caller.interrupt();
                    LockSupport.parkNanos(50_000); // pacing, so some calls run between interrupts
                }
            }, "tck-interrupter");
            caller.start();
            interrupter.start();
            caller.join(patience().multipliedBy(4).toMillis());
            interrupter.join(patience().toMillis());
            assertThat(caller.isAlive()).as("the caller finished").isFalse();

            assertThat(unexpected).isEmpty();
            assertThat(taken.size() + failed.size()).isEqualTo(rounds);
            for (String k : taken) {
                assertThat(held(k)).as("%s was reported taken", k).isPresent();
            }
            for (String k : failed) {
                assertThat(held(k)).as("%s was reported not taken", k).isEmpty();
            }
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-int").build());
        }
    }

    @Nested
    @DisplayName("interrupt during a wait: the wait ends, the flag stays set, LockingException, nothing locked")
    class InterruptDuringAWait {

        @Test
        void anInterruptWhileExecuteWaits() throws Exception {
            String a = key("a");
            String b = key("b");
            locking.acquire(b, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);
            AtomicBoolean ran = new AtomicBoolean();
            Running waiter = start(() -> locking.execute(List.of(a, b), lock -> ran.getAndSet(true),
                    waitUpTo(patience().multipliedBy(2))));
            waiting().until(() -> counted.awaits() >= 1);

            waiter.thread().interrupt();
            Outcome o = result(waiter.outcome());
            assertThat(o.failure()).isInstanceOf(LockingException.class).isNotInstanceOf(LockTimeoutException.class);
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertThat(ran).isFalse();
            assertUnchanged(before);
            assertThat(locking.release(b, by("owner-1"))).isTrue();
            assertFree(a, b);
        }

        @Test
        void anInterruptBeforeExecuteWaits() throws Exception {
            String a = key("a");
            locking.acquire(a);
            AtomicBoolean ran = new AtomicBoolean();
            Running waiter = start(() -> {
                Thread.currentThread().interrupt();
                return locking.execute(a, lock -> ran.getAndSet(true), waitUpTo(patience().multipliedBy(2)));
            });

            Outcome o = result(waiter.outcome());
            assertThat(o.failure()).isInstanceOf(LockingException.class).isNotInstanceOf(LockTimeoutException.class);
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertThat(ran).isFalse();
            assertThat(locking.release(a)).isTrue();
            assertFree(a);
        }

        @Test
        void spi_awaitRelease_answersAnInterruptWithInterruptedException() throws Exception {
            String a = key("a");
            provider().tryAcquire(List.of(a), null, null);
            List<String> keys = List.of(a);
            Running waiter = start(() -> {
                long deadline = System.nanoTime() + patience().toNanos();
                while (System.nanoTime() - deadline < 0) {
                    provider().awaitRelease(keys, patience()); // may return early; it must not swallow an interrupt
                }
                return "never interrupted";
            });

            waiter.thread().interrupt();
            assertThat(result(waiter.outcome()).failure()).isInstanceOf(InterruptedException.class);
            assertHeld(a);
        }
    }

    @Nested
    @DisplayName("awaitRelease (SPI): returns when a key may be free, or at maxWait")
    class AwaitRelease {

        @Test
        void returnsSoonAfterARelease() throws Exception {
            String a = key("a");
            provider().tryAcquire(List.of(a), "owner-1", null);
            CountingProvider waiter = new CountingProvider(provider());
            Future<Long> freed = async(() -> {
                long deadline = System.nanoTime() + patience().toNanos();
                while (held(a).isPresent() && System.nanoTime() - deadline < 0) {
                    waiter.awaitRelease(List.of(a), patience());
                }
                return System.nanoTime();
            });
            waiting().until(() -> waiter.awaits() >= 1); // the release must come while it waits

            long released = System.nanoTime();
            assertThat(provider().release(List.of(a), "owner-1")).isTrue();
            assertThat(Duration.ofNanos(result(freed) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void returnsAtOnceWhenTheKeysAreAlreadyFree() throws Exception {
            String a = key("a");
            String b = key("b");
            provider().tryAcquire(List.of(a, b), "owner-1", null);
            provider().release(List.of(a, b), "owner-1");
            // A release that came before the wait began must not be missed (no lost wake-up): execute calls
            // awaitRelease after a tryAcquire that found a key held, and the key may be released in between.
            long start = System.nanoTime();
            provider().awaitRelease(List.of(a, b), patience());
            provider().awaitRelease(List.of(key("never-held")), patience());
            assertThat(since(start)).isLessThan(wakeUpWithin());
        }

        @Test
        void returnsByMaxWaitWhenNothingHappens() throws Exception {
            String a = key("a");
            provider().tryAcquire(List.of(a), "owner-1", null);
            long start = System.nanoTime();
            provider().awaitRelease(List.of(a), Duration.ofMillis(200));
            assertThat(since(start)).isLessThan(Duration.ofMillis(200).plus(wakeUpWithin()));
            assertHeld(a);
        }
    }

    @Nested
    @DisplayName("extend (SPI): owner-checked renewal used by execute")
    class Extend {

        @Test
        void resetsTheLeaseOfTheOwnersKeys_andKeepsTheTokens() {
            String a = key("a");
            String b = key("b");
            AcquireResult taken = provider().tryAcquire(List.of(a, b), "owner-1", Duration.ofSeconds(10));
            assertThat(taken).isInstanceOf(AcquireResult.Acquired.class);

            Duration lease = Duration.ofSeconds(60);
            Instant before = Instant.now();
            assertThat(provider().extend(List.of(a, b), "owner-1", lease)).isTrue();
            Instant after = Instant.now();
            for (String k : List.of(a, b)) {
                LockInfo info = assertHeld(k);
                assertExpiresAbout(info.expiresAt(), before, after, lease, "expiry of " + k + " after extend");
                assertThat(info.fencingToken()).isEqualTo(((AcquireResult.Acquired) taken).fencingTokens().get(k));
            }
        }

        @Test
        void isRefusedForKeysTheOwnerDoesNotHold() {
            String mine = key("mine");
            String theirs = key("theirs");
            String anonymous = key("anonymous");
            String free = key("free");
            provider().tryAcquire(List.of(mine), "owner-1", Duration.ofSeconds(10));
            provider().tryAcquire(List.of(theirs), "owner-2", Duration.ofSeconds(10));
            provider().tryAcquire(List.of(anonymous), null, Duration.ofSeconds(10));
            Map<String, Optional<LockInfo>> before = snapshot(theirs, anonymous, free);

            assertThat(provider().extend(List.of(theirs), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().extend(List.of(anonymous), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().extend(List.of(free), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().extend(List.of(free, mine), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertUnchanged(before);
        }

        @Test
        void isRefusedAfterTheLeaseLapsed() {
            String a = key("a");
            provider().tryAcquire(List.of(a), "owner-1", shortLease());
            awaitFree(a, lapseBound());
            assertThat(provider().extend(List.of(a), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertFree(a);
        }
    }

    // =========================================================================================================
    // The scenarios of the reference module's own tests
    // =========================================================================================================

    @Nested
    @DisplayName("scenarios of the reference module's tests")
    class ReferenceScenarios {

        @Test
        void tenBuyersOfFiveItems_oversellWithoutALock() throws Exception {
            AtomicInteger stock = new AtomicInteger(5);
            CyclicBarrier allHaveLooked = new CyclicBarrier(10);
            List<Future<Boolean>> buyers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                buyers.add(async(() -> {
                    boolean inStock = stock.get() > 0;
                    allHaveLooked.await(patience().toMillis(), TimeUnit.MILLISECONDS); // everyone checks before anyone buys
                    if (inStock) {
                        stock.decrementAndGet();
                    }
                    return inStock;
                }));
            }
            int sold = 0;
            for (Future<Boolean> buyer : buyers) {
                sold += result(buyer) ? 1 : 0;
            }
            assertThat(sold).isEqualTo(10);
            assertThat(stock.get()).as("stock after an oversell").isNegative().isEqualTo(-5);
        }

        @Test
        void tenBuyersOfFiveItems_sellExactlyFiveWithExecute() throws Exception {
            String sku = key("sku-17");
            int[] stock = {5}; // guarded by the lock only
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> buyers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                buyers.add(async(() -> {
                    assertThat(go.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                    return locking.execute(sku, lock -> {
                        int left = stock[0];
                        if (left <= 0) {
                            return false;
                        }
                        pause(); // give a racing buyer every chance
                        stock[0] = left - 1;
                        return true;
                    }, patiently());
                }));
            }
            go.countDown();
            int sold = 0;
            for (Future<Boolean> buyer : buyers) {
                sold += result(buyer) ? 1 : 0;
            }
            assertThat(sold).isEqualTo(5);
            assertThat(stock[0]).isZero();
            assertFree(sku);
        }

        @Test
        void owners() {
            String a = key("prod_123");
            locking.acquire(a, owner("user_1", Duration.ofSeconds(60)));
            assertAcquireFails(() -> locking.acquire(a, owner("user_2", Duration.ofSeconds(60))), a);
            assertThat(locking.release(a, by("user_2"))).isFalse();
            assertThat(locking.acquire(a, owner("user_1", Duration.ofSeconds(60))).ownerId()).isEqualTo("user_1");
            assertThat(locking.release(a, by("user_1"))).isTrue();
            assertThat(locking.acquire(a, owner("user_2")).ownerId()).isEqualTo("user_2");
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("user_2").build());
            assertFree(a);
        }

        @Test
        void parallelCallsOnDifferentKeys_runAtTheSameTime() throws Exception {
            int n = 4;
            CyclicBarrier allInside = new CyclicBarrier(n);
            List<Future<String>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String k = key("parallel-" + i);
                calls.add(async(() -> locking.execute(k, lock -> {
                    allInside.await(patience().toMillis(), TimeUnit.MILLISECONDS); // fails unless all run at once
                    return k;
                }, patiently())));
            }
            for (int i = 0; i < n; i++) {
                assertThat(result(calls.get(i))).isEqualTo(key("parallel-" + i));
                assertFree(key("parallel-" + i));
            }
        }

        @Test
        void anonymousLocks() {
            String a = key("anonymous");
            Lease lease = locking.acquire(a);
            assertThat(lease.ownerId()).isNull();
            assertAcquireFails(() -> locking.acquire(a), a);
            assertAcquireFails(() -> locking.acquire(a, owner("user_1")), a);
            assertThat(locking.release(a)).isTrue();
            assertThat(locking.acquire(a).fencingTokens().get(a)).isGreaterThan(lease.fencingTokens().get(a));
            assertThat(locking.release(a, by("user_1"))).isTrue();
        }

        @Test
        void releaseAfterAFailingJob() {
            String a = key("failing");
            assertThatThrownBy(() -> locking.execute(a, lock -> {
                throw new IllegalStateException("job failed");
            })).isInstanceOf(IllegalStateException.class).hasMessage("job failed");
            assertFree(a);
            long start = System.nanoTime();
            String next = locking.execute(a, lock -> "next", waitUpTo(Duration.ofSeconds(1)));
            assertThat(next).isEqualTo("next");
            assertThat(since(start)).isLessThan(Duration.ofSeconds(1));
            locking.acquire(a);
        }

        @Test
        void threeCallsOnOneKey_theMiddleOneTimesOut() throws Exception {
            String a = key("three");
            List<String> ran = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch firstInside = new CountDownLatch(1);
            CountDownLatch releaseFirst = new CountDownLatch(1);
            Future<Outcome> first = async(() -> capture(() -> locking.execute(a, lock -> {
                firstInside.countDown();
                ran.add("first");
                return releaseFirst.await(patience().toMillis(), TimeUnit.MILLISECONDS);
            }, waitUpTo(Duration.ofSeconds(1)))));
            assertThat(firstInside.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            long secondStart = System.nanoTime();
            Future<Outcome> second = async(() -> capture(() -> locking.execute(a, lock -> ran.add("second"),
                    waitUpTo(Duration.ofSeconds(1)))));
            Future<Outcome> third = async(() -> capture(() -> locking.execute(a, lock -> ran.add("third"),
                    waitUpTo(Duration.ofSeconds(2).plus(patience())))));

            // The first call holds the key until the second has timed out, however slow the machine is.
            Outcome secondOutcome = result(second);
            assertThat(secondOutcome.failure()).isInstanceOf(LockTimeoutException.class);
            assertThat(since(secondStart)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
            releaseFirst.countDown();

            assertThat(result(first).value()).isEqualTo(true);
            assertThat(result(third).value()).isEqualTo(true);
            assertThat(ran).containsExactly("first", "third");
            assertFree(a);
        }
    }

    // =========================================================================================================
    // Concurrency
    // =========================================================================================================

    @Nested
    @DisplayName("concurrency: mutual exclusion, no deadlock, one winner")
    class Concurrency {

        @Test
        void eightThreadsOnOneKey_countExactly_withoutOverlap() throws Exception {
            String a = key("counter");
            assertExclusive(8, 25, thread -> List.of(a));
            assertFree(a);
        }

        @Test
        void callsOnTwoKeysInOppositeOrders_neverDeadlock() throws Exception {
            String a = key("a");
            String b = key("b");
            assertExclusive(4, 40, thread -> thread % 2 == 0 ? List.of(a, b) : List.of(b, a));
            assertFree(a, b);
        }

        /**
         * Starts the threads together; each runs {@code execute} {@code rounds} times on its keys around an
         * unsynchronised counter. Every call must finish in time, with the exact total and no overlap.
         */
        private void assertExclusive(int threads, int rounds, IntFunction<List<String>> keysOfThread)
                throws Exception {
            CriticalSection section = new CriticalSection();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<String> keys = keysOfThread.apply(t);
                workers.add(async(() -> {
                    assertThat(go.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                    for (int r = 0; r < rounds; r++) {
                        locking.execute(keys, lock -> {
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

        @Test
        void eightOwnersRacingForOneKey_haveExactlyOneWinner() throws Exception {
            int owners = 8;
            for (int round = 0; round < 5; round++) {
                String a = key("race-" + round);
                CyclicBarrier start = new CyclicBarrier(owners);
                List<Future<Boolean>> racers = new ArrayList<>();
                for (int i = 0; i < owners; i++) {
                    String ownerId = "owner-" + i;
                    racers.add(async(() -> {
                        start.await(patience().toMillis(), TimeUnit.MILLISECONDS);
                        try {
                            locking.acquire(a, owner(ownerId, Duration.ofSeconds(60)));
                            return true;
                        } catch (LockAcquisitionException e) {
                            assertThat(e).hasMessage(acquireFailed(a));
                            return false;
                        }
                    }));
                }
                List<String> winners = new ArrayList<>();
                for (int i = 0; i < owners; i++) {
                    if (result(racers.get(i))) {
                        winners.add("owner-" + i);
                    }
                }
                assertThat(winners).as("winners of round %d", round).hasSize(1);
                assertThat(assertHeld(a).ownerId()).isEqualTo(winners.get(0));
            }
        }

        @Test
        void spi_racingForOverlappingKeys_isAllOrNothing() throws Exception {
            int owners = 8;
            String shared = key("shared");
            CyclicBarrier start = new CyclicBarrier(owners);
            List<Future<AcquireResult>> racers = new ArrayList<>();
            for (int i = 0; i < owners; i++) {
                String own = key("own-" + i);
                String ownerId = "owner-" + i;
                racers.add(async(() -> {
                    start.await(patience().toMillis(), TimeUnit.MILLISECONDS);
                    return provider().tryAcquire(List.of(own, shared), ownerId, Duration.ofSeconds(60));
                }));
            }
            int winners = 0;
            for (int i = 0; i < owners; i++) {
                AcquireResult r = result(racers.get(i));
                if (r instanceof AcquireResult.Acquired) {
                    winners++;
                    assertThat(assertHeld(shared).ownerId()).isEqualTo("owner-" + i);
                    assertThat(assertHeld(key("own-" + i)).ownerId()).isEqualTo("owner-" + i);
                } else {
                    assertThat(r).isEqualTo(new AcquireResult.Conflict(shared));
                    assertFree(key("own-" + i)); // all or nothing: the loser's own key was not taken
                }
            }
            assertThat(winners).isEqualTo(1);
        }
    }

    // =========================================================================================================
    // Optional capabilities
    // =========================================================================================================

    @Nested
    @DisplayName("two clients of one backend (skipped when newSecondClient returns null)")
    class TwoClients {

        @Test
        void aLockTakenThroughOneClient_isSeenAndBlocksThroughTheOther() {
            LockingService other = second();
            String a = key("a");
            String b = key("b");
            Lease lease = locking.acquire(a, owner("owner-1", Duration.ofSeconds(60)));
            Optional<LockInfo> seen = other.inspect(a);
            assertThat(seen).isPresent();
            assertThat(seen.get().ownerId()).isEqualTo("owner-1");
            assertThat(seen.get().fencingToken()).isEqualTo(lease.fencingTokens().get(a));
            assertAcquireFails(() -> other.acquire(a, owner("owner-2")), a);
            assertAcquireFails(() -> other.acquire(a), a);
            assertThatThrownBy(() -> other.execute(a, lock -> "ran", waitUpTo(Duration.ofSeconds(1))))
                    .isInstanceOf(LockTimeoutException.class);

            other.acquire(b);
            assertAcquireFails(() -> locking.acquire(b), b);
            assertThat(locking.release(b)).as("an anonymous lock of the other client").isTrue();
            assertThat(other.inspect(b)).isEmpty();
        }

        @Test
        void aReleaseThroughOneClient_wakesAnExecuteWaitingOnTheOther() throws Exception {
            LockingService other = second();
            CountingProvider otherCalls = secondCounted();
            String a = key("a");
            locking.acquire(a);
            Future<Long> entered = async(() -> other.execute(a, lock -> System.nanoTime(), patiently()));
            waiting().until(() -> otherCalls.awaits() >= 1);

            long released = System.nanoTime();
            assertThat(locking.release(a)).isTrue();
            assertThat(Duration.ofNanos(result(entered) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void spi_awaitReleaseOnOneClient_returnsSoonAfterAReleaseThroughTheOther() throws Exception {
            second();
            LockingProvider other = secondBackend;
            assertThat(other).isNotNull();
            String a = key("a");
            provider().tryAcquire(List.of(a), "owner-1", null);
            CountingProvider waiter = new CountingProvider(other);
            Future<Long> freed = async(() -> {
                long deadline = System.nanoTime() + patience().toNanos();
                while (other.inspect(a).isPresent() && System.nanoTime() - deadline < 0) {
                    waiter.awaitRelease(List.of(a), patience()); // the core retries sooner; this does not
                }
                return System.nanoTime();
            });
            waiting().until(() -> waiter.awaits() >= 1); // the release must come while it waits

            long released = System.nanoTime();
            assertThat(provider().release(List.of(a), "owner-1")).isTrue();
            assertThat(Duration.ofNanos(result(freed) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void anOwnerIsTheSameOwnerThroughEitherClient() {
            LockingService other = second();
            String a = key("a");
            Lease first = locking.acquire(a, owner("owner-1", Duration.ofSeconds(10)));
            Lease again = other.acquire(a, owner("owner-1", Duration.ofSeconds(60)));
            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());
            assertThat(other.release(a, by("owner-1"))).isTrue();
            assertFree(a);
        }

        @Test
        void executeThroughBothClients_countsExactly_withoutOverlap() throws Exception {
            LockingService other = second();
            String a = key("counter");
            int rounds = 20;
            CriticalSection section = new CriticalSection();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> workers = new ArrayList<>();
            for (LockingService service : List.of(locking, other, locking, other)) {
                workers.add(async(() -> {
                    assertThat(go.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                    for (int r = 0; r < rounds; r++) {
                        service.execute(a, lock -> {
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
            assertThat(section.counter).isEqualTo(4 * rounds);
        }

        @Test
        void fencingTokensContinueInANewClient() {
            second();
            String a = key("a");
            Lease lease = locking.acquire(a);
            assertThat(locking.release(a)).isTrue();
            LockingProvider fresh = newSecondClient(PROVIDER_ID);
            assertThat(fresh).isNotNull();
            try {
                AcquireResult result = fresh.tryAcquire(List.of(a), null, null);
                assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(((AcquireResult.Acquired) result).fencingTokens().get(a))
                        .isGreaterThan(lease.fencingTokens().get(a));
            } finally {
                fresh.close();
            }
        }
    }

    @Nested
    @DisplayName("backend down: ProviderUnavailableException within a bounded time (skipped without newUnreachableProvider)")
    class BackendDown {

        @Test
        void everyCallFails_withProviderUnavailableException_inBoundedTime() throws Exception {
            LockingProvider down = newUnreachableProvider(PROVIDER_ID);
            if (down == null) {
                abort("newUnreachableProvider returned null: no unreachable backend to try");
                return;
            }
            assertThat(down.id()).isEqualTo(PROVIDER_ID);
            LockingService service = serviceAround(down); // building connects to nothing
            try {
                String a = key("a");
                AtomicBoolean ran = new AtomicBoolean();
                Map<String, Callable<?>> calls = new LinkedHashMap<>();
                calls.put("acquire", () -> service.acquire(a, owner("owner-1", Duration.ofSeconds(30))));
                calls.put("execute", () -> service.execute(a, lock -> ran.getAndSet(true), waitUpTo(Duration.ofSeconds(2))));
                calls.put("release", () -> service.release(a));
                calls.put("releaseAll", () -> {
                    service.releaseAll();
                    return null;
                });
                calls.put("inspect", () -> service.inspect(a));
                Map<String, Future<Duration>> running = new LinkedHashMap<>();
                calls.forEach((name, call) -> running.put(name, async(() -> {
                    long start = System.nanoTime();
                    Outcome o = capture(call);
                    assertThat(o.failure()).as(name).isInstanceOf(ProviderUnavailableException.class);
                    return since(start);
                })));
                for (Map.Entry<String, Future<Duration>> call : running.entrySet()) {
                    Duration took;
                    try {
                        took = call.getValue().get(unavailableWithin().plus(patience()).toMillis(), TimeUnit.MILLISECONDS);
                    } catch (ExecutionException e) {
                        throw new AssertionError(call.getKey() + ": " + e.getCause(), e.getCause());
                    }
                    assertThat(took).as("%s on an unreachable backend took", call.getKey()).isLessThan(unavailableWithin());
                }
                assertThat(ran).isFalse();
            } finally {
                service.close();
                down.close();
            }
        }
    }

    @Nested
    @DisplayName("several JVMs (skipped when childJvmProperties returns null)")
    class SeveralJvms {

        private MultiJvmContention contention() {
            Map<String, String> properties = childJvmProperties();
            if (properties == null) {
                return abort("childJvmProperties returned null: the provider is in-process");
            }
            return MultiJvmContention.builder()
                    .systemProperties(properties)
                    .jvms(3)
                    .iterations(20)
                    .key(key("jvm"))
                    .timeout(Duration.ofMinutes(2))
                    .executeTimeout(Duration.ofSeconds(60))
                    .build();
        }

        @Test
        void executeExcludesAcrossJvms() throws Exception {
            MultiJvmContention.Result result = contention().run();
            assertThat(result.allExitedNormally()).as("children exited normally; %s", result.stderrTail()).isTrue();
            assertThat(result.overlaps()).isZero();
            assertThat(result.counter()).isEqualTo(result.expectedCounter());
            assertFree(key("jvm"));
        }

        @Test
        void aKilledHoldersLock_freesWhenItsLeaseLapses() {
            MultiJvmContention contention = contention();
            String a = key("held");
            Duration lease = shortLease().multipliedBy(3);
            try (MultiJvmContention.Holder holder = contention.startHolder(a, lease)) {
                long token = holder.awaitHeld(Duration.ofMinutes(1));
                LockInfo info = assertHeld(a);
                assertThat(info.fencingToken()).isEqualTo(token);
                assertAcquireFails(() -> locking.acquire(a, owner("owner-1")), a);

                holder.kill(); // SIGKILL: nothing is released, the lease must run out
                awaitFree(a, lease.plus(Duration.ofSeconds(1)).plus(clockTolerance()));
                assertThat(locking.acquire(a).fencingTokens().get(a)).isGreaterThan(token);
            }
        }
    }

    // =========================================================================================================
    // Faults and hostile input (issue 10)
    // =========================================================================================================

    /**
     * Two clients take over one lapsed, never-renewed lock at the same moment, {@value #TAKEOVER_ROUNDS}
     * rounds: never may both succeed, and the winner's token is above the lapsed lock's. The details are in
     * {@link TakeoverRaceCheck}.
     */
    @Nested
    @DisplayName("takeover race: two clients taking over one lapsed lock never both win (skipped when newSecondClient returns null)")
    class TakeoverRace {

        @Test
        void twoClientsTakingOverALapsedLock_neverBothWin() throws Exception {
            second();
            LockingProvider other = secondBackend;
            assertThat(other).isNotNull();
            TakeoverRaceCheck race = new TakeoverRaceCheck(provider(), other, pool, patience());

            int races = race.run(key(""), TAKEOVER_ROUNDS, TAKEOVER_LEASE);

            assertThat(races).as("races run (a round races again when its lock has not lapsed yet)")
                    .isGreaterThanOrEqualTo(TAKEOVER_ROUNDS);
        }
    }

    /**
     * A holder cut off from its backend (a {@link LoopbackProxy} that drops all traffic) while its
     * {@code execute} runs: its handle turns lost one lease after its last confirmed renewal was sent (within
     * 100 ms by the semantics, plus the margin {@link #lostLeaseAllowance()} gives a busy machine), never a
     * renewal period early, the job is interrupted, {@code execute} throws {@link LockLostException} within
     * {@link #patience()}, and another client of the backend takes the key once the lease has lapsed.
     */
    @Nested
    @DisplayName("a lost lease is noticed on time when the backend stops answering (skipped without backendAddress and newProviderThrough)")
    class LostLeaseDeadline {

        @Test
        void aHolderCutOffFromItsBackend_turnsLostOneLeaseAfterItsLastRenewal_andAnotherClientTakesTheKey()
                throws Exception {
            InetSocketAddress backendAddress = backendAddress();
            if (backendAddress == null) {
                abort("backendAddress returned null: no backend to cut a client off from");
                return;
            }
            LoopbackProxy proxy = new LoopbackProxy(backendAddress);
            LockingProvider cutOff = null;
            try {
                cutOff = newProviderThrough(PROVIDER_ID, proxy.address());
                if (cutOff == null) {
                    abort("newProviderThrough returned null: the provider cannot be put behind a proxy");
                    return;
                }
                assertThat(cutOff.id()).isEqualTo(PROVIDER_ID);
                checkLostLeaseDeadline(proxy, new CountingProvider(cutOff));
            } finally {
                proxy.close(); // first, so that closing the client finds its connections closed, not silent
                if (cutOff != null) {
                    cutOff.close();
                }
            }
        }

        private void checkLostLeaseDeadline(LoopbackProxy proxy, CountingProvider cutOff) throws Exception {
            String a = key("a");
            Duration lease = LOST_LEASE;
            Duration period = lease.dividedBy(3); // the renewal period of DESIGN.md
            AtomicLong token = new AtomicLong();
            AtomicLong lostAt = new AtomicLong();
            CountDownLatch started = new CountDownLatch(1);
            try (LockingService service = serviceAround(cutOff)) {
                Future<Outcome> outcome = async(() -> capture(() -> service.execute(a, lock -> {
                    token.set(lock.fencingToken(a));
                    started.countDown();
                    long deadline = System.nanoTime() + patience().toNanos();
                    while (!lock.isLost() && System.nanoTime() - deadline < 0) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // returns at once when interrupted
                    }
                    if (lock.isLost()) {
                        lostAt.set(System.nanoTime());
                    }
                    return lock.isLost() ? "lost" : "never lost";
                }, ExecuteOptions.builder().expire(lease).timeout(patience()).build())));
                assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).as("the job started").isTrue();
                waiting().pollInterval(Duration.ofMillis(1)).until(() -> cutOff.confirmedExtends() >= 1);

                long cutAt = System.nanoTime();
                proxy.cut();

                Outcome o;
                try {
                    o = outcome.get(patience().multipliedBy(2).toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    throw new AssertionError("execute on a cut-off backend did not return within "
                            + patience().multipliedBy(2), e);
                }
                long lost = lostAt.get();
                assertThat(lost).as("when the handle turned lost (0: not within %s of the cut; execute gave %s)",
                        patience(), o).isNotZero();
                long confirmedSend = cutOff.lastConfirmedExtendSentNanos();
                Duration afterCut = Duration.ofNanos(lost - cutAt);
                Duration afterRenewal = Duration.ofNanos(lost - confirmedSend);
                assertThat(afterCut)
                        .as("time from the cut to the lost handle (lease %s; the last confirmed renewal was sent %s"
                                + " before the cut and the handle turned lost %s after it; the semantics allow"
                                + " lease + 100 ms after it, the kit lease + %s)", lease,
                                Duration.ofNanos(cutAt - confirmedSend), afterRenewal, lostLeaseAllowance())
                        .isLessThanOrEqualTo(lease.plus(lostLeaseAllowance()))
                        .isGreaterThanOrEqualTo(lease.minus(period));
                assertThat(o.failure()).isInstanceOf(LockLostException.class);
                assertThat(o.interruptedAfter()).as("interrupt flag after execute threw").isFalse();
            }

            AtomicReference<AcquireResult> taken = new AtomicReference<>();
            waiting().atMost(clockTolerance().plus(Duration.ofSeconds(2))).until(() -> {
                AcquireResult r = provider().tryAcquire(List.of(a), "after-the-cut", Duration.ofSeconds(30));
                taken.set(r);
                return r instanceof AcquireResult.Acquired;
            });
            AcquireResult afterTheCut = taken.get();
            assertThat(afterTheCut).isNotNull();
            assertThat(token(afterTheCut, a)).as("the new holder's token").isGreaterThan(token.get());
        }
    }

    /**
     * Keys and owner ids mean exactly themselves. A key or owner id that is not well-formed UTF-16 (a lone
     * surrogate) cannot be stored faithfully by most backends, so the core refuses it, as it refuses an
     * owner id over {@value HostileInput#MAX_LENGTH} characters, with {@link IllegalArgumentException} and no
     * provider call. Every other string (NUL, separators, path segments, wildcards, hash tags, escapes,
     * control characters, characters outside the BMP, the longest allowed) round-trips exactly, through the
     * service and through the SPI, and lookalikes are different keys and different owners. The strings are
     * in {@link HostileInput}.
     */
    @Nested
    @DisplayName("hostile keys and owners: malformed ones are refused, every other one means exactly itself")
    class HostileKeysAndOwners {

        @TestFactory
        Stream<DynamicTest> loneSurrogatesAndOverlongOwners_areRejected_beforeAnyProviderCall() {
            Map<String, String> malformed = new LinkedHashMap<>();
            malformed.put("a lone high surrogate", "\uD800");
            malformed.put("a lone low surrogate inside", "a\uDC00b");
            malformed.put("a high surrogate at the end", "ab\uD83D");
            malformed.put("a low surrogate at the start", "\uDE00ab");
            malformed.put("a reversed pair", "\uDE00\uD83D");
            AtomicBoolean ran = new AtomicBoolean();
            LockedJob<Boolean, RuntimeException> job = lock -> ran.getAndSet(true);
            // Each case gets a good key of its own (and a bad key made from it), so that a call wrongly let
            // through spoils no other case.
            Map<String, Function<String, ThrowingCallable>> cases = new LinkedHashMap<>();
            malformed.forEach((what, bad) -> {
                cases.put("acquire(key with " + what + ")", good -> () -> locking.acquire(good + bad));
                cases.put("acquire([good key, key with " + what + "])",
                        good -> () -> locking.acquire(List.of(good, good + bad), owner("owner-1")));
                cases.put("execute(key with " + what + ")", good -> () -> locking.execute(good + bad, job));
                cases.put("release(key with " + what + ")", good -> () -> locking.release(good + bad));
                cases.put("inspect(key with " + what + ")", good -> () -> locking.inspect(good + bad));
                cases.put("inspect(key with " + what + ", provider)",
                        good -> () -> locking.inspect(good + bad, PROVIDER_ID));
                String badOwner = "owner" + bad;
                cases.put("acquire(owner with " + what + ")", good -> () -> locking.acquire(good, owner(badOwner)));
                cases.put("release(owner with " + what + ")", good -> () -> locking.release(good, by(badOwner)));
                cases.put("releaseAll(owner with " + what + ")",
                        good -> () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId(badOwner).build()));
            });
            String overlong = "o".repeat(HostileInput.MAX_LENGTH + 1);
            cases.put("acquire(1025-char owner)",
                    good -> () -> locking.acquire(good, owner(overlong, Duration.ofSeconds(30))));
            cases.put("release(1025-char owner)", good -> () -> locking.release(good, by(overlong)));
            cases.put("releaseAll(1025-char owner)",
                    good -> () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId(overlong).build()));
            AtomicInteger n = new AtomicInteger();
            return cases.entrySet().stream().map(c -> DynamicTest.dynamicTest(c.getKey(), () -> {
                String good = key("good-" + n.incrementAndGet());
                CountingProvider.Calls before = counted.calls();
                assertThatThrownBy(c.getValue().apply(good)).isInstanceOf(IllegalArgumentException.class);
                assertThat(counted.calls()).as("calls that reached the provider").isEqualTo(before);
                assertThat(ran).as("the job ran").isFalse();
                assertFree(good);
            }));
        }

        @TestFactory
        Stream<DynamicTest> everyOtherKeyAndOwner_roundTripsExactly_throughTheService() {
            return roundTrips(HostileInput.through(locking));
        }

        @TestFactory
        Stream<DynamicTest> spi_everyOtherKeyAndOwner_roundTripsExactly() {
            return roundTrips(HostileInput.through(provider()));
        }

        /** Each string as an owner, and as a key both alone and after the test's prefix; then the longest. */
        private Stream<DynamicTest> roundTrips(HostileInput.Client client) {
            List<DynamicTest> tests = new ArrayList<>();
            HostileInput.values().forEach((what, value) -> {
                tests.add(DynamicTest.dynamicTest(what + " " + HostileInput.quoted(value), () -> {
                    HostileInput.assertRoundTrip(client, key(value), value, what + " after a prefix");
                    HostileInput.assertRoundTrip(client, value, value, what + " alone");
                }));
            });
            tests.add(DynamicTest.dynamicTest("1024 characters", () -> {
                String longestKey = HostileInput.longest(key(""), HostileInput.MAX_LENGTH);
                String longestOwner = HostileInput.longest("owner", HostileInput.MAX_LENGTH);
                assertThat(longestKey).hasSize(HostileInput.MAX_LENGTH);
                assertThat(longestOwner).hasSize(HostileInput.MAX_LENGTH);
                HostileInput.assertRoundTrip(client, longestKey, longestOwner, "the longest key and owner");
            }));
            return tests.stream();
        }

        @Test
        void lookalikeOwners_cannotReenterReleaseOrReleaseAllEachOthersLocks() {
            HostileInput.assertLookalikeOwnersAreDistinct(HostileInput.through(locking), key(""));
        }

        @Test
        void spi_lookalikeOwners_cannotReenterExtendReleaseOrReleaseAllEachOthersLocks() {
            HostileInput.assertLookalikeOwnersAreDistinct(HostileInput.through(provider()), key(""));
        }

        @Test
        void lookalikeKeys_areDifferentLocks() {
            HostileInput.assertLookalikeKeysAreDistinct(HostileInput.through(locking), key(""));
        }

        @Test
        void spi_lookalikeKeys_areDifferentLocks() {
            HostileInput.assertLookalikeKeysAreDistinct(HostileInput.through(provider()), key(""));
        }
    }

    /**
     * Data that the provider did not write, at the place where it would keep a lock (planted by
     * {@link #plantForeignData(String)}): calls on that key fail with a {@link LockingException} that names
     * the key and is not a {@link ProviderUnavailableException} (the backend answered), they change nothing
     * (the free keys of a multi-key acquire stay free), and calls on other keys and other owners work as
     * before. The foreign data stays behind; the kit's clean-up after each test tolerates a
     * {@code releaseAll()} that reports it.
     */
    @Nested
    @DisplayName("foreign data at a lock's keys: a clear LockingException, nothing changed, other locks unharmed (skipped without plantForeignData)")
    class ForeignData {

        private String plant(String name) {
            String k = key(name);
            if (!plantForeignData(k)) {
                return abort("plantForeignData returned false: the backend has no foreign data to plant");
            }
            foreignDataPlanted = true;
            return k;
        }

        /** A failure that is about the foreign data: a LockingException naming the key, the backend reachable. */
        private void assertReportsForeignData(@Nullable Throwable thrown, String foreign, String call) {
            assertThat(thrown).as("what %s on a key with foreign data threw", call)
                    .isInstanceOf(LockingException.class)
                    .isNotInstanceOf(ProviderUnavailableException.class)
                    .hasMessageContaining(foreign);
        }

        @Test
        void acquire_failsWithALockingExceptionNamingTheKey_andTakesNothing() {
            String foreign = plant("foreign");
            for (String call : List.of("acquire by owner-1", "acquire by owner-1 again", "anonymous acquire")) {
                AcquireOptions options = call.startsWith("anonymous") ? AcquireOptions.builder()
                        .expire(Duration.ofSeconds(30)).build() : owner("owner-1", Duration.ofSeconds(30));
                assertReportsForeignData(catchThrowable(() -> locking.acquire(foreign, options)), foreign, call);
            }
            Optional<LockInfo> seen = Optional.empty();
            Throwable inspectFailure = catchThrowable(() -> locking.inspect(foreign));
            if (inspectFailure != null) {
                assertReportsForeignData(inspectFailure, foreign, "inspect");
            } else {
                seen = locking.inspect(foreign);
            }
            assertThat(seen.map(LockInfo::ownerId)).as("the owner inspect reports after the failed acquires")
                    .isNotEqualTo(Optional.of("owner-1"));

            AtomicBoolean ran = new AtomicBoolean();
            Throwable executed = catchThrowable(() -> locking.execute(foreign, lock -> ran.getAndSet(true),
                    waitUpTo(Duration.ofSeconds(1))));
            assertThat(executed).as("what execute on a key with foreign data threw")
                    .isInstanceOf(LockingException.class)
                    .isNotInstanceOf(ProviderUnavailableException.class);
            assertThat(ran).as("the job ran").isFalse();

            AtomicBoolean releasedIt = new AtomicBoolean();
            Throwable released = catchThrowable(() -> releasedIt.set(locking.release(foreign)));
            if (released != null) {
                assertReportsForeignData(released, foreign, "release");
            } else {
                assertThat(releasedIt).as("release of a key with foreign data: nothing to release").isFalse();
            }
        }

        @Test
        void aMultiKeyAcquireWithAForeignKey_fails_andLeavesTheFreeKeysFree() {
            String before = key("a-free");
            String foreign = plant("m-foreign");
            String after = key("z-free");
            Throwable thrown = catchThrowable(() -> locking.acquire(List.of(after, foreign, before),
                    owner("owner-1", Duration.ofSeconds(30))));
            assertReportsForeignData(thrown, foreign, "a multi-key acquire");
            assertFree(before, after);

            Lease lease = locking.acquire(List.of(before, after), owner("owner-1", Duration.ofSeconds(30)));
            assertThat(lease.keys()).containsExactly(before, after);
            assertThat(locking.release(List.of(before, after), by("owner-1"))).isTrue();
        }

        @Test
        void releaseAndReleaseAllOfAnotherOwnersLocks_stillWork() {
            String foreign = plant("foreign");
            assertReportsForeignData(catchThrowable(() -> locking.acquire(foreign, owner("other"))), foreign,
                    "acquire by other");
            String b = key("b");
            String c = key("c");
            String d = key("d");
            locking.acquire(List.of(b, c), owner("other", Duration.ofSeconds(30)));
            locking.acquire(d, owner("owner-1", Duration.ofSeconds(30)));

            assertThat(locking.release(b, by("other"))).isTrue();
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("other").build());
            assertFree(b, c);
            assertThat(assertHeld(d).ownerId()).isEqualTo("owner-1");
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-1").build());
            assertFree(d);
        }

        @Test
        void releaseAll_stillReleasesEveryOtherLock() {
            String foreign = plant("foreign");
            String b = key("b");
            String c = key("c");
            String d = key("d");
            locking.acquire(b);
            locking.acquire(c, owner("owner-1", Duration.ofSeconds(30)));
            locking.acquire(d, owner("owner-2"));

            Throwable thrown = catchThrowable(() -> locking.releaseAll());
            if (thrown != null) { // leaving the foreign data alone and saying so is allowed
                assertReportsForeignData(thrown, foreign, "releaseAll()");
            }
            assertFree(b, c, d);
        }
    }
}
