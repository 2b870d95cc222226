package dev.locking.hazelcast;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;
import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.hazelcast.LockProcessors.Extend;
import dev.locking.hazelcast.LockProcessors.Inspect;
import dev.locking.hazelcast.LockProcessors.Release;
import dev.locking.hazelcast.LockProcessors.ReleaseEvery;
import dev.locking.hazelcast.LockProcessors.Undo;
import dev.locking.hazelcast.Outcome.Status;
import dev.locking.hazelcast.QueueProcessors.AcquireOrQueue;
import dev.locking.hazelcast.QueueProcessors.LeaveQueue;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.GrantInbox;
import dev.locking.spi.support.BackendCalls;
import dev.locking.spi.support.KeyWaiters;
import dev.locking.spi.support.Leases;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lp_hazelcast}: locks in a Hazelcast {@code IMap<String, LockEntry>}, changed only by the entry
 * processors of {@link LockProcessors}.
 *
 * <h2>Mapping</h2>
 * <ul>
 *   <li>One key, one step: acquire, extend, release and inspect are each one entry processor on the
 *       key's partition thread, so one round trip per key ({@link KeySteps}). Owner checks happen there: a
 *       lock held by a non-null owner is re-entered, extended and released by that owner only; an anonymous
 *       one is re-entered by nobody and released by anyone.</li>
 *   <li>A key has an entry only while it is locked: a release removes it (a lock someone waits for leaves
 *       a free entry for a few seconds, whose update wakes the waiters), and a lapsed lock goes with its TTL
 *       a few seconds after its lease (see {@link LockEntry}). Fencing tokens need no counter per key: a new
 *       token is above the key's stored token while there is one and never below the member's clock in
 *       microseconds, made strictly increasing per member ({@link LockProcessors#tokenClock()}).</li>
 *   <li>Leases: rounded up to milliseconds ({@link Leases}); the entry's {@code expiresAt} (member time)
 *       decides; its TTL (lease plus a few seconds) only clears away what nobody touches any more.</li>
 *   <li>Several keys: taken one by one in the order the core gives, rolled back on the first conflict
 *       ({@link MultiKeyAcquire}).</li>
 *   <li>Waiting: a waiter marks the locks it waits for ({@link LockProcessors.Watch}); the release of a
 *       marked lock is the only update that passes the predicate of this instance's entry listener
 *       ({@link ReleaseListener}, registered at its first wait), which wakes the longest local waiter of that
 *       key in the {@link KeyWaiters}. A waiter's mark covers the lock it saw: when a waiter here wins the key,
 *       its own lock is not marked, so the provider's own releases (and rollbacks) wake every local waiter
 *       of each key they free. A waiter also re-checks after at most the holder's remaining lease (a
 *       lapse sends no event) and at most every {@value #RECHECK_MILLIS} ms (a notification lost in a
 *       fail-over).</li>
 *   <li>Hand-off ({@link #handsOff()}): a single-key {@code execute} queues in the key's entry
 *       ({@link QueueProcessors.AcquireOrQueue}); every step that frees a key hands it to the first live
 *       queued owner in the same run ({@link LockProcessors#end}); the grant reaches only the owner's JVM
 *       through a {@link GrantListener} whose predicate members evaluate, and waits in the owner's slot
 *       ({@link GrantInbox}), registered before the step, until its thread takes it in {@link #awaitGrant}.</li>
 *   <li>{@code releaseAll(owner)} finds the owner's keys through an indexed predicate on {@code owner}
 *       (free entries have none; the index is added by the first {@code releaseAll(owner)}) and releases
 *       each as {@code release} would; {@code releaseAll()} turns every held entry free, keeping the
 *       tokens, and hands each key with a queue to its first live queued owner by a step of its own.</li>
 * </ul>
 *
 * <h2>Failures</h2>
 * Every call on the map goes through {@link BackendCalls} and waits at most {@code operationTimeout} (a
 * member's synchronous calls on its own keys wait for Hazelcast's backup acknowledgements, which Hazelcast
 * bounds). No answer, or a Hazelcast failure that means the cluster cannot be reached, is a
 * {@link ProviderUnavailableException} ({@link Failures}). An interrupt pending when a call starts is kept
 * for later, so a release in a {@code finally} still runs; one that arrives during a call sends the step
 * again, or, for a release, ends it with a {@link dev.locking.api.LockingException} (see {@link KeySteps}).
 *
 * <h2>Concurrency</h2>
 * Safe for concurrent use. The {@link Backend} is created on first use under {@code startLock} and published
 * through a volatile field, which every other path reads without locking; an owned instance that stopped (a
 * client that gave up on its cluster) is replaced on the next use, under {@code startLock}, which also
 * guards {@code closed}. The waiter registry and the calls are safe for concurrent use; everything else is
 * final and immutable.
 */
final class HazelcastLockingProvider implements LockingProvider {

    /** The longest a waiter sleeps before asking the backend again. */
    static final long RECHECK_MILLIS = 1000;

    private static final Logger log = LoggerFactory.getLogger(HazelcastLockingProvider.class);

    private final String id;
    private final InstanceSource source;
    private final String mapName;
    private final KeyWaiters waiters;
    private final GrantInbox grants = new GrantInbox();
    private final Failures failures;
    private final BackendCalls calls;
    private final KeySteps steps;
    private final MultiKeyAcquire acquire;
    private final Object startLock = new Object();

    /** Written under {@code startLock}, read without it. */
    private volatile @Nullable Backend backend;

    @GuardedBy("startLock")
    private boolean closed;

    HazelcastLockingProvider(String id, InstanceSource source, String mapName, Duration operationTimeout) {
        this(id, source, mapName, operationTimeout, RECHECK_MILLIS);
    }

    /** For tests: {@code recheckMillis} replaces {@link #RECHECK_MILLIS}. */
    HazelcastLockingProvider(String id, InstanceSource source, String mapName, Duration operationTimeout,
            long recheckMillis) {
        this.id = id;
        this.source = source;
        this.mapName = mapName;
        this.waiters = new KeyWaiters(Duration.ofMillis(recheckMillis));
        this.failures = new Failures(id, mapName);
        this.calls = new BackendCalls(id, "Hazelcast", operationTimeout, failures);
        this.steps = new KeySteps(calls, failures);
        this.acquire = new MultiKeyAcquire(id, steps, failures, waiters);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        return acquire.take(backend(), keys, ownerId, lease);
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        Backend b = backend();
        long leaseMillis = Leases.toMillis(lease);
        boolean all = steps.each(b, keys, new Extend(ownerId, leaseMillis), "extend", false) == keys.size();
        if (log.isDebugEnabled()) {
            log.debug("{}: {} lease on {} for {} to {}", id, all ? "extended" : "could not extend", keys,
                    describe(ownerId), lease);
        }
        return all;
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        Backend b = backend();
        boolean all = steps.each(b, keys, new Release(ownerId, true), "release", true) == keys.size();
        wakeLocalWaiters(keys);
        if (log.isDebugEnabled()) {
            log.debug("{}: released {} for {}: {}", id, keys, describe(ownerId), all ? "all" : "not all");
        }
        return all;
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        Backend b = backend();
        if (ownerId == null) {
            // Not clear(): a waiter's free entry must be written (its update wakes the waiter), and clear()
            // would not say which keys were ours. Not repeatable: a second run would free locks taken since.
            Map<String, Outcome> queued = steps.blocking(() -> b.locks.executeOnEntries(new ReleaseEvery()),
                    "releaseAll every key", false);
            // The locks with a queue: each ended by its own step, which hands the key to its first queued owner.
            for (Map.Entry<String, Outcome> lock : queued.entrySet()) {
                LockEntry entry = lock.getValue() == null ? null : lock.getValue().entry();
                if (entry != null) {
                    steps.one(b, lock.getKey(), new Undo(entry.token()), "releaseAll");
                }
            }
            waiters.wakeEveryone();
            log.debug("{}: released every lock in map {}", id, mapName);
            return;
        }
        // An index lookup finds the owner's keys; each is then released by its own step, which checks the
        // owner again and waits for a concurrent acquire on that key instead of racing with it.
        b.index(steps);
        // instanceOf first: a value of another type in the map (which has no owner) is skipped, not an error
        // that would stop every releaseAll(owner). With the index, Hazelcast looks up the owner through it
        // and filters the few entries found.
        Predicate<String, LockEntry> owned = Predicates.and(Predicates.instanceOf(LockEntry.class),
                Predicates.equal("owner", ownerId));
        Set<String> found = steps.blocking(() -> b.locks.keySet(owned),
                "releaseAll the keys of " + describe(ownerId), true);
        List<String> keys = List.copyOf(found);
        int released = steps.each(b, keys, new Release(ownerId, false), "releaseAll", false);
        wakeLocalWaiters(keys);
        log.debug("{}: released {} lock(s) of {}", id, released, describe(ownerId));
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        Outcome outcome = steps.one(backend(), key, new Inspect(), "inspect");
        if (outcome.status() == Status.FOREIGN) {
            throw failures.foreign(key, outcome, "inspect");
        }
        LockEntry entry = outcome.entry();
        if (outcome.status() != Status.HELD || entry == null) {
            return Optional.empty();
        }
        Instant expiresAt = entry.expiresAt() == LockEntry.NEVER ? null : Instant.ofEpochMilli(entry.expiresAt());
        return Optional.of(new LockInfo(key, entry.owner(), expiresAt, entry.token()));
    }

    /**
     * Registers the caller, marks the keys' locks and reads them ({@link KeySteps#watch}), then sleeps until
     * the listener (or a release of this provider) wakes it, the holder's lease ends, {@code maxWait} or the
     * recheck period passes. Registering first means a release that happens while we look still wakes us.
     */
    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Backend b = backend();
        long waitMillis = maxWait.isNegative() || maxWait.isZero() ? 1 : Leases.toMillis(maxWait);
        listen(b);
        try (KeyWaiters.Waiter waiter = waiters.register(keys)) {
            Map<String, Outcome> states = steps.watch(b, keys);
            for (String key : keys) {
                Outcome state = states.get(key);
                if (state == null || state.status() != Status.HELD) {
                    waiter.used(); // the core tries the keys next
                    return;
                }
                if (state.remainingMillis() > 0) {
                    waitMillis = Math.min(waitMillis, state.remainingMillis());
                }
            }
            waiter.await(TimeUnit.MILLISECONDS.toNanos(waitMillis)); // at most one recheck period
            waiter.used();
        }
    }

    /** True: a released key goes to the first live owner of its queue, in the release's own step. */
    @Override
    public boolean handsOff() {
        return true;
    }

    /**
     * Registers the owner's grant slot (and, once per prefix of owners, the grant listener) before the step
     * runs, so a grant that comes before the owner sleeps in {@link #awaitGrant} is kept; then one
     * {@link AcquireOrQueue} step.
     */
    @Override
    public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
        String owner = requireOwner(ownerId);
        long leaseMillis = Leases.toMillis(lease);
        long stayMillis = Leases.toMillis(stay);
        Backend b = backend();
        b.listenForGrants(owner, grants, steps);
        GrantInbox.Slot slot = grants.expect(owner, key, key, stay);
        Outcome outcome = steps.one(b, key, new AcquireOrQueue(owner, leaseMillis, stayMillis), "acquire");
        LockEntry entry = outcome.entry();
        if (outcome.status() == Status.TAKEN && entry != null) {
            grants.forget(owner);
            return GrantListener.acquired(key, entry);
        }
        if (outcome.status() == Status.FOREIGN) {
            grants.forget(owner);
            throw failures.foreign(key, outcome, "acquire");
        }
        // Queued: look again when the holder's lease ends, as a lapse sends no grant.
        long remaining = outcome.remainingMillis();
        slot.holderLapsesAt(remaining > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(remaining) : 0);
        return new AcquireResult.Conflict(key);
    }

    /**
     * Sleeps on the owner's grant slot until the {@link GrantListener} brings its grant, {@code maxWait} passed,
     * or the holder's lease ends (as the owner's last {@code acquireOrQueue} saw it); no call on the cluster.
     */
    @Override
    public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
            throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        String owner = requireOwner(ownerId);
        long waitNanos = maxWait.isNegative() || maxWait.isZero() ? 1 : Leases.toNanos(maxWait);
        backend(); // closed: fails
        // Returns early when the holder's lease ends, as acquireOrQueue saw it. A provider that closes sets
        // backend to null; a spurious null answer is allowed.
        return grants.awaitGrant(owner, key, key, System.nanoTime() + waitNanos, () -> backend == null);
    }

    /** One {@link LeaveQueue} step; a key it frees that nobody queues for wakes this provider's waiters. */
    @Override
    public void leaveQueue(String key, String ownerId) {
        String owner = requireOwner(ownerId);
        Backend b = backend();
        grants.forget(owner);
        Outcome outcome = steps.one(b, key, new LeaveQueue(owner), "leave the queue of");
        if (outcome.status() == Status.FOREIGN) {
            throw failures.foreign(key, outcome, "leave the queue of");
        }
        if (outcome.status() == Status.DONE) {
            wakeLocalWaiters(List.of(key));
        }
    }

    /**
     * Registers the release listener on the first wait. An interrupt that cuts that registration short is the
     * wait's interrupt: an {@link InterruptedException}, as anywhere else in a wait. The registration may still
     * take effect; the next wait registers again, and a second listener only wakes this provider's waiters
     * twice.
     */
    private void listen(Backend b) throws InterruptedException {
        try {
            b.listen(waiters, steps);
        } catch (LockingException e) {
            if (!Thread.interrupted()) {
                throw e;
            }
            InterruptedException interrupted = new InterruptedException(e.getMessage());
            interrupted.initCause(e);
            throw interrupted;
        }
    }

    @Override
    public void close() {
        Backend b;
        synchronized (startLock) {
            if (closed) {
                return;
            }
            closed = true;
            b = backend;
            backend = null;
        }
        waiters.wakeEveryone();
        grants.wakeEveryone();
        calls.close();
        if (b == null) {
            return;
        }
        try {
            b.close(source);
        } catch (RuntimeException e) {
            log.warn("{}: closing {} failed: {}", id, source, e.toString());
        }
        log.info("{}: closed ({})", id, source);
    }

    @Override
    public String toString() {
        return "HazelcastLockingProvider[" + id + ", map " + mapName + ", " + source + "]";
    }

    /** Whether this owner's next multi-key acquire takes the keys one by one (see {@link MultiKeyAcquire}); for tests. */
    boolean takesKeysInOrder(String ownerId) {
        return acquire.takesInOrder(ownerId);
    }

    /** Whether anyone waits in {@link #awaitRelease}; for tests. */
    boolean hasWaiters() {
        return waiters.waitingKeys() > 0;
    }

    /** How many waiters sleep in {@link #awaitRelease} now; for tests. */
    int sleepingWaiters() {
        return waiters.sleepingWaiters();
    }

    /** How many owners have a grant slot here (queued, or granted and not yet seen); for tests. */
    int grantSlots() {
        return grants.expected();
    }

    /** How many grant listeners this provider registered; for tests. */
    int grantListeners() {
        return backend().grantListeners();
    }

    /** Whether a grant for the owner came and waits in its slot; for tests. */
    boolean grantArrived(String ownerId) {
        GrantInbox.Slot slot = grants.slotOf(ownerId);
        return slot != null && slot.grant() != null;
    }

    /** The owner of a queue call: never anonymous. */
    private static String requireOwner(@Nullable String ownerId) {
        if (ownerId == null || ownerId.isEmpty()) {
            throw new IllegalArgumentException("an owner that queues for a key needs an id, got " + ownerId);
        }
        return ownerId;
    }

    /** How the logs name an owner. */
    static String describe(@Nullable String ownerId) {
        return ownerId == null ? "anonymous" : "owner \"" + ownerId + "\"";
    }

    /**
     * Wakes every local waiter of each key a call of this provider may have freed. The listener hears only
     * of locks a waiter marked, and wakes one waiter per release; but a mark covers the lock its waiter saw,
     * so the waiters it did not wake would sleep out their slice through the release of the next lock (one a
     * waiter here took, which nobody marked yet). A release here tells them all, as the core's local queue
     * expects: it signals its next waiter, which may be asleep here.
     */
    private void wakeLocalWaiters(List<String> keys) {
        for (String key : keys) {
            waiters.wakeAll(key);
        }
    }

    private Backend backend() {
        Backend b = backend;
        if (b != null && b.running()) {
            return b;
        }
        synchronized (startLock) {
            if (closed) {
                throw new IllegalStateException(id + " is closed");
            }
            b = backend;
            if (b != null) {
                if (b.running()) {
                    return b;
                }
                backend = null;
                if (!source.owned()) {
                    throw new ProviderUnavailableException(id + ": the Hazelcast instance it was given ("
                            + b.instance.getName() + ") is not running");
                }
                log.warn("{}: {} has stopped; starting a new one", id, source);
            }
            b = Backend.start(id, source, mapName, failures);
            backend = b;
            return b;
        }
    }
}
