package dev.locking.tck;

import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.LockingProvider;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
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
 * <pre>{@code
 * class MemoryProviderConformanceTest extends LockingProviderConformance {
 *     @Override protected LockingProvider newProvider(String id) {
 *         return MemoryProviderFactory.newProvider(id);
 *     }
 * }
 * }</pre>
 *
 * A distributed provider also hands out a second client of the same backend and tells child JVMs how to
 * reach it, which turns on the two-client and multi-JVM groups:
 *
 * <pre>{@code
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
 * }</pre>
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
 * <h2>What it checks</h2>
 * Extending this class runs every group. Each group checks one rule and is listed at the end of this class,
 * with one line saying the contract it checks and its display name: that list is the kit's table of contents.
 * What the core decides before it calls a provider (which provider an id names, which input it refuses) is
 * not in the kit: it does not depend on the provider, and the core's own tests check it once. The groups are
 * defined in one file per area (all in this package):
 * <ul>
 *   <li>{@code AcquireChecks}: free keys, re-entry by the same owner, keys held by someone else, lapsed
 *       leases, locks without expire, an acquire given a wait;</li>
 *   <li>{@code ReleaseChecks} and {@code ReleaseAllChecks};</li>
 *   <li>{@code ExecuteChecks}: the timeout and the job, waking on release, the lease renewed while the job
 *       runs, nested calls;</li>
 *   <li>{@code InterruptChecks}: an interrupt pending when a call starts, during acquire calls, during a wait;
 *       and {@code awaitRelease};</li>
 *   <li>{@code SpiChecks}: {@code extend}, fencing tokens, concurrency;</li>
 *   <li>{@code BadInputChecks}: input the core refuses leaves nothing in the backend; the longest key fits;</li>
 *   <li>{@code DistributedChecks}: two clients, a backend that is down, several JVMs, the takeover race, the
 *       lost-lease deadline, foreign data;</li>
 *   <li>{@code ReferenceScenarioChecks}: the scenarios of the reference module's tests;</li>
 *   <li>{@code HostileInputChecks}: hostile keys and owners;</li>
 *   <li>{@code HandOffChecks}: the hand-off of a released key to the first queued owner, for providers whose
 *       {@code handsOff()} is true.</li>
 * </ul>
 * {@code KitFixture} holds the provider and each test's service, keys and threads; {@code KitGroup}, the base
 * of every group, holds the assertions and helpers the groups share.
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

    /** The provider under test, the second client and each test's service, keys and threads; groups read it. */
    private final KitFixture fixture = new KitFixture(this);

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
        fixture.setUp();
    }

    /**
     * Stops the test's threads, closes its services and releases what it left behind.
     *
     * @throws InterruptedException if interrupted while waiting for the test's threads to end
     */
    @AfterEach
    protected final void tckTearDown() throws InterruptedException {
        fixture.tearDown();
    }

    /** Closes the providers the kit created. */
    @AfterAll
    protected final void tckCloseProviders() {
        fixture.closeProviders();
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
        return fixture.provider();
    }

    /**
     * Returns this test's service; its default provider is the provider under test.
     *
     * @return the service
     */
    protected final LockingService locking() {
        return fixture.locking();
    }

    /**
     * Returns a key that no other test uses.
     *
     * @param name a name, unique within the test
     * @return the test's prefix followed by {@code name}
     */
    protected final String key(String name) {
        return fixture.key(name);
    }

    // =========================================================================================================
    // Table of contents: one group per rule, in one file per area. Each group is an abstract class in its
    // area file; the @Nested class here gives it its display name and the fixture.
    // =========================================================================================================

    // acquire: AcquireChecks.java

    /** acquire on free keys takes them all at once and returns a fencing token per key. */
    @Nested
    @DisplayName("acquire on free keys: all taken at once, a fencing token per key")
    class AcquireOnFreeKeys extends AcquireChecks.AcquireOnFreeKeys {
        AcquireOnFreeKeys() { super(fixture); }
    }

    /** The same owner re-enters its keys; only an acquire with expire resets the lease; tokens stay. */
    @Nested
    @DisplayName("acquire by the same owner: re-entry, expiry reset only with expire, tokens unchanged")
    class SameOwnerReentry extends AcquireChecks.SameOwnerReentry {
        SameOwnerReentry() { super(fixture); }
    }

    /** A key held by another owner (or anonymously) fails the acquire with the first conflict, changing no key. */
    @Nested
    @DisplayName("acquire on a key held by someone else: LockAcquisitionException, no key changes")
    class HeldBySomeoneElse extends AcquireChecks.HeldBySomeoneElse {
        HeldBySomeoneElse() { super(fixture); }
    }

    /** A lapsed lease frees the key: release says false, the next taker gets a higher token. */
    @Nested
    @DisplayName("acquire on a key whose lease has lapsed: free, with a higher fencing token")
    class LapsedLease extends AcquireChecks.LapsedLease {
        LapsedLease() { super(fixture); }
    }

    /** A lock taken without expire never lapses. */
    @Nested
    @DisplayName("acquire without expire: the lock never expires")
    class WithoutExpire extends AcquireChecks.WithoutExpire {
        WithoutExpire() { super(fixture); }
    }

    /** acquire with a wait: woken on release, a timeout writes nothing, all or nothing, interrupts end it. */
    @Nested
    @DisplayName("acquire with wait: woken on release; LockTimeoutException writing nothing; all or nothing; interruptible")
    class AcquireWithWait extends AcquireChecks.AcquireWithWait {
        AcquireWithWait() { super(fixture); }
    }

    // release: ReleaseChecks.java

    /** release frees anonymous locks for anyone, owned ones for their owner only; true if every key was freed. */
    @Nested
    @DisplayName("release: anonymous by anyone, owned by its owner only; true only if every key was released")
    class Release extends ReleaseChecks.Release {
        Release() { super(fixture); }
    }

    // releaseAll: ReleaseAllChecks.java

    /** releaseAll(owner) frees that owner's locks and nothing else; releaseAll() frees every lock. */
    @Nested
    @DisplayName("releaseAll(owner) releases that owner's locks only; releaseAll() releases every lock")
    class ReleaseAll extends ReleaseAllChecks.ReleaseAll {
        ReleaseAll() { super(fixture); }
    }

    // execute: ExecuteChecks.java

    /** execute waits up to its timeout (default 5 s), runs the job with every key held, and always releases. */
    @Nested
    @DisplayName("execute: waits up to the timeout (default 5 s), runs the job, always releases")
    class Execute extends ExecuteChecks.Execute {
        Execute() { super(fixture); }
    }

    /** A waiting execute wakes soon after a release or a lapse, not by polling alone, and waiters do not starve. */
    @Nested
    @DisplayName("execute wait: wakes on release, not only by polling; waiters do not starve")
    class ExecuteWait extends ExecuteChecks.ExecuteWait {
        ExecuteWait() { super(fixture); }
    }

    /** execute renews the lease while the job runs; a lost lease interrupts the job and throws LockLostException. */
    @Nested
    @DisplayName("execute lease: renewed while the job runs; a lost lease interrupts the job and throws")
    class ExecuteLease extends ExecuteChecks.ExecuteLease {
        ExecuteLease() { super(fixture); }
    }

    /** A nested execute runs at once on keys its caller holds and takes and releases any extra ones itself. */
    @Nested
    @DisplayName("execute nested: held keys run at once, extra keys are taken and released by the nested call")
    class NestedExecute extends ExecuteChecks.NestedExecute {
        NestedExecute() { super(fixture); }
    }

    // interrupts, and awaitRelease (SPI): InterruptChecks.java

    /** A call that does not wait does its work despite a pending interrupt, and the flag stays set. */
    @Nested
    @DisplayName("an interrupt pending when a call that does not wait starts: the call does its work, the flag stays set")
    class InterruptPendingAtACall extends InterruptChecks.InterruptPendingAtACall {
        InterruptPendingAtACall() { super(fixture); }
    }

    /** Under a stream of interrupts, an acquire that failed took nothing and one that returned holds its key. */
    @Nested
    @DisplayName("interrupts during acquire calls: a call that failed took nothing, one that returned holds its key")
    class InterruptsDuringCalls extends InterruptChecks.InterruptsDuringCalls {
        InterruptsDuringCalls() { super(fixture); }
    }

    /** An interrupt ends a wait with LockingException, leaves the flag set and nothing locked. */
    @Nested
    @DisplayName("interrupt during a wait: the wait ends, the flag stays set, LockingException, nothing locked")
    class InterruptDuringAWait extends InterruptChecks.InterruptDuringAWait {
        InterruptDuringAWait() { super(fixture); }
    }

    /** awaitRelease (SPI) returns soon after a key may have been freed, at once if free, or at maxWait. */
    @Nested
    @DisplayName("awaitRelease (SPI): returns when a key may be free, or at maxWait")
    class AwaitRelease extends InterruptChecks.AwaitRelease {
        AwaitRelease() { super(fixture); }
    }

    // the SPI directly, and concurrency: SpiChecks.java

    /** extend (SPI) renews only the owner's own, still-held keys, keeping their tokens. */
    @Nested
    @DisplayName("extend (SPI): owner-checked renewal used by execute")
    class Extend extends SpiChecks.Extend {
        Extend() { super(fixture); }
    }

    /** Fencing tokens strictly increase per key across releases and expiry. */
    @Nested
    @DisplayName("fencing tokens: strictly increase per key across release and expiry")
    class FencingTokens extends SpiChecks.FencingTokens {
        FencingTokens() { super(fixture); }
    }

    /** Concurrent callers are mutually excluded, never deadlock, and a race has exactly one winner. */
    @Nested
    @DisplayName("concurrency: mutual exclusion, no deadlock, one winner")
    class Concurrency extends SpiChecks.Concurrency {
        Concurrency() { super(fixture); }
    }

    // bad input, as the provider sees it: BadInputChecks.java

    /** Input the core refuses never reaches the backend; the longest key (1024 characters) fits. */
    @Nested
    @DisplayName("bad input: refused before the provider, nothing written to the backend; a 1024-character key fits")
    class BadInput extends BadInputChecks.BadInput {
        BadInput() { super(fixture); }
    }

    // distributed providers (skipped unless their hooks return something): DistributedChecks.java

    /** Two clients of one backend see and block each other's locks, wake each other and share owners and tokens. */
    @Nested
    @DisplayName("two clients of one backend (skipped when newSecondClient returns null)")
    class TwoClients extends DistributedChecks.TwoClients {
        TwoClients() { super(fixture); }
    }

    /** Every call on an unreachable backend fails with ProviderUnavailableException in bounded time. */
    @Nested
    @DisplayName("backend down: ProviderUnavailableException within a bounded time (skipped without newUnreachableProvider)")
    class BackendDown extends DistributedChecks.BackendDown {
        BackendDown() { super(fixture); }
    }

    /** execute excludes across JVMs, and a killed holder's lock frees when its lease lapses. */
    @Nested
    @DisplayName("several JVMs (skipped when childJvmProperties returns null)")
    class SeveralJvms extends DistributedChecks.SeveralJvms {
        SeveralJvms() { super(fixture); }
    }

    /** Two clients taking over one lapsed lock never both win, and the winner's token is higher. */
    @Nested
    @DisplayName("takeover race: two clients taking over one lapsed lock never both win (skipped when newSecondClient returns null)")
    class TakeoverRace extends DistributedChecks.TakeoverRace {
        TakeoverRace() { super(fixture); }
    }

    /** A holder cut off from its backend sees its lease lost one lease after its last confirmed renewal. */
    @Nested
    @DisplayName("a lost lease is noticed on time when the backend stops answering (skipped without backendAddress and newProviderThrough)")
    class LostLeaseDeadline extends DistributedChecks.LostLeaseDeadline {
        LostLeaseDeadline() { super(fixture); }
    }

    /** Data the provider did not write at a lock's keys gives a clear LockingException and harms no other lock. */
    @Nested
    @DisplayName("foreign data at a lock's keys: a clear LockingException, nothing changed, other locks unharmed (skipped without plantForeignData)")
    class ForeignData extends DistributedChecks.ForeignData {
        ForeignData() { super(fixture); }
    }

    // the reference module's scenarios: ReferenceScenarioChecks.java

    /**
     * The scenarios of the reference module's tests: overselling without a lock, exactly five sold with one, and more.
     */
    @Nested
    @DisplayName("scenarios of the reference module's tests")
    class ReferenceScenarios extends ReferenceScenarioChecks.ReferenceScenarios {
        ReferenceScenarios() { super(fixture); }
    }

    // hostile input: HostileInputChecks.java

    /** Every well-formed key and owner id means exactly itself, through the service and the SPI. */
    @Nested
    @DisplayName("hostile keys and owners: every well-formed one means exactly itself, through the service and the SPI")
    class HostileKeysAndOwners extends HostileInputChecks.HostileKeysAndOwners {
        HostileKeysAndOwners() { super(fixture); }
    }

    // hand-off: HandOffChecks.java

    /**
     * A released key goes to the first live queued owner in the same step: higher token, no barging, no overlap;
     * a grant's short first lease, leaveQueue of any holder, a grant made before awaitGrant started.
     */
    @Nested
    @DisplayName("hand-off to queued owners: first live owner, higher token, left, lapsed or dead owners skipped")
    class HandOff extends HandOffChecks.HandOff {
        HandOff() { super(fixture); }
    }
}
