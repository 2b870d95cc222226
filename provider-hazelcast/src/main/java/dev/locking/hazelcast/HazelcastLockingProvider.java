package dev.locking.hazelcast;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.IndexConfig;
import com.hazelcast.config.IndexType;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.serialization.HazelcastSerializationException;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.QueryException;
import com.hazelcast.query.Predicates;
import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.hazelcast.LockProcessors.Acquire;
import dev.locking.hazelcast.LockProcessors.Extend;
import dev.locking.hazelcast.LockProcessors.Inspect;
import dev.locking.hazelcast.LockProcessors.Release;
import dev.locking.hazelcast.LockProcessors.ReleaseEvery;
import dev.locking.hazelcast.LockProcessors.Restore;
import dev.locking.hazelcast.LockProcessors.Undo;
import dev.locking.hazelcast.LockProcessors.Watch;
import dev.locking.hazelcast.Outcome.Status;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.Leases;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
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
 *       key's partition thread, so one round trip per key. Owner checks happen there: a lock held by a
 *       non-null owner is re-entered, extended and released by that owner only; an anonymous one is
 *       re-entered by nobody and released by anyone.</li>
 *   <li>A key has an entry only while it is locked: a release removes it (a lock someone waits for leaves
 *       a free entry for a few seconds, whose update wakes the waiters), and a lapsed lock goes with its TTL
 *       a few seconds after its lease (see {@link LockEntry}). Fencing tokens need no counter per key: a new
 *       token is above the key's stored token while there is one and never below the member's clock in
 *       microseconds, made strictly increasing per member ({@link LockProcessors#tokenClock()}).</li>
 *   <li>Leases: the entry's {@code expiresAt} (member time) decides; its TTL (lease plus a few seconds) only
 *       clears away what nobody touches any more.</li>
 *   <li>Several keys: taken one by one in the (sorted) order the core gives, and on the first conflict
 *       the keys already taken are rolled back (a freshly taken key is freed, its token spent; a
 *       re-entered key gets its old expiry back). Because every caller takes keys in the same order, two
 *       callers never hold parts of each other's sets for long, and there is no deadlock. Hazelcast
 *       transactions were not used: they cannot run entry processors, cost more round trips, and leave key
 *       locks behind a client that dies mid-transaction. Observers may see a multi-key acquire half done
 *       while it runs, never after it returned a conflict.</li>
 *   <li>Waiting: a waiter marks the locks it waits for ({@link LockProcessors.Watch}); the release of a
 *       marked lock is the only update that passes the predicate of this instance's entry listener,
 *       registered at its first wait, which wakes the local waiters of that key. A waiter also re-checks
 *       after at most the holder's remaining lease (a lapse sends no event) and at most every
 *       {@value #RECHECK_MILLIS} ms (a notification lost in a fail-over).</li>
 *   <li>{@code releaseAll(owner)} finds the owner's keys through an indexed predicate on {@code owner}
 *       (free entries have none; the index is added by the first {@code releaseAll(owner)}) and releases
 *       each as {@code release} would; {@code releaseAll()} turns every held entry free, keeping the
 *       tokens.</li>
 * </ul>
 *
 * <h2>Calls</h2>
 * A call on one key is a synchronous Hazelcast call ({@link #sync}): Hazelcast completes the futures of
 * asynchronous calls through its default async executor, which on a machine with at most two cores starts a
 * thread per call. A member calls keys that other members own asynchronously, and so does everybody for the
 * per-key steps of a {@code release}, {@code extend} or {@code releaseAll(owner)} on several keys, which are
 * sent together.
 *
 * <h2>Concurrency</h2>
 * The backend (instance, map) is created on first use under {@code startLock} and published through a
 * volatile field; every other path reads that field without locking. The listener (at the first wait) and
 * the index (at the first {@code releaseAll(owner)}) are added under the backend's own monitor. An owned
 * instance that stopped (a client that gave up on its cluster) is replaced on the next use, under
 * {@code startLock}. {@code closed} is only written under {@code startLock}.
 *
 * <h2>Failures</h2>
 * Every call on the backend waits at most {@code operationTimeout}: on our own future for asynchronous
 * calls, through {@link CallDeadlines} for a client's synchronous ones (a member's synchronous calls on its
 * own keys wait at most Hazelcast's backup timeout). No answer, or a Hazelcast failure that means the
 * cluster cannot be reached, is a {@link ProviderUnavailableException}. An interrupt pending when a call
 * starts is ignored and kept, so a release in a {@code finally} still runs; one that arrives while a client
 * waits for an answer ends the wait with a {@link LockingException} (the call may still take effect).
 */
final class HazelcastLockingProvider implements LockingProvider {

    /** The longest a waiter sleeps before asking the backend again. */
    static final long RECHECK_MILLIS = 1000;

    private static final Logger log = LoggerFactory.getLogger(HazelcastLockingProvider.class);

    private final String id;
    private final InstanceSource source;
    private final String mapName;
    private final Duration operationTimeout;
    private final long recheckMillis;
    private final Waiters waiters = new Waiters();
    private final CallDeadlines deadlines;
    private final Object startLock = new Object();
    private volatile @Nullable Backend backend;
    private volatile boolean closed;

    /** What first use creates. */
    private static final class Backend {
        final HazelcastInstance instance;
        final IMap<String, LockEntry> locks;
        /** Whether the instance is a member (else a client). */
        final boolean member;
        /** The release listener's registration; registered by the first wait, written under {@code this}. */
        volatile @Nullable UUID listenerId;
        /** Whether this backend asked for the owner index (at its first {@code releaseAll(owner)}). */
        volatile boolean indexed;
        /** Whether Hazelcast refused the index because of foreign data (logged once). */
        volatile boolean indexRefused;

        Backend(HazelcastInstance instance, IMap<String, LockEntry> locks) {
            this.instance = instance;
            this.locks = locks;
            this.member = instance.getLocalEndpoint() instanceof Member;
        }

        /**
         * Whether a call on this key may wait for its answer synchronously: always from a client (the
         * deadline watcher can end its wait), and from a member for a key it owns itself (the step runs here,
         * and Hazelcast bounds the wait for its backups). A member's synchronous call on a key another member
         * owns could not be cut off.
         */
        boolean direct(String key) {
            if (!member) {
                return true;
            }
            Member owner = instance.getPartitionService().getPartition(key).getOwner();
            return owner != null && owner.localMember();
        }

        boolean running() {
            return instance.getLifecycleService().isRunning();
        }
    }

    /** A key this call took or re-entered, kept for a rollback. */
    private record Taken(String key, Outcome outcome) {}

    HazelcastLockingProvider(String id, InstanceSource source, String mapName, Duration operationTimeout) {
        this(id, source, mapName, operationTimeout, RECHECK_MILLIS);
    }

    /** For tests: {@code recheckMillis} replaces {@link #RECHECK_MILLIS}. */
    HazelcastLockingProvider(String id, InstanceSource source, String mapName, Duration operationTimeout,
            long recheckMillis) {
        this.id = id;
        this.recheckMillis = recheckMillis;
        this.source = source;
        this.mapName = mapName;
        this.operationTimeout = operationTimeout;
        this.deadlines = new CallDeadlines(id + "-call-deadlines");
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        Backend b = backend();
        long leaseMillis = lease == null ? 0 : Leases.toMillis(lease);
        List<Taken> taken = new ArrayList<>(keys.size());
        long nonce = nonce();
        try {
            for (String key : keys) {
                Outcome outcome = call(b, key, new Acquire(ownerId, leaseMillis, nonce), "acquire");
                if (outcome.status() == Status.FOREIGN) {
                    throw foreign(key, outcome, "acquire");
                }
                if (outcome.status() == Status.CONFLICT) {
                    rollback(b, taken);
                    if (log.isDebugEnabled()) {
                        LockEntry holder = outcome.entry();
                        log.debug("{}: {} not acquired for {}: \"{}\" is held by {}", id, keys, describe(ownerId), key,
                                holder == null ? "someone" : describe(holder.owner()));
                    }
                    return new AcquireResult.Conflict(key);
                }
                taken.add(new Taken(key, outcome));
            }
        } catch (RuntimeException e) {
            rollback(b, taken);
            throw e;
        }
        Map<String, Long> tokens = new LinkedHashMap<>();
        long earliest = LockEntry.NEVER;
        for (Taken t : taken) {
            LockEntry entry = required(t.outcome().entry(), t.key());
            tokens.put(t.key(), entry.token());
            if (entry.expiresAt() != LockEntry.NEVER && (earliest == LockEntry.NEVER || entry.expiresAt() < earliest)) {
                earliest = entry.expiresAt();
            }
        }
        Instant expiresAt = earliest == LockEntry.NEVER ? null : Instant.ofEpochMilli(earliest);
        if (log.isDebugEnabled()) {
            log.debug("{}: acquired {} for {} (tokens {}, expires {})", id, keys, describe(ownerId), tokens,
                    expiresAt == null ? "never" : expiresAt);
        }
        return new AcquireResult.Acquired(tokens, expiresAt);
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        Backend b = backend();
        long leaseMillis = Leases.toMillis(lease);
        int extended = onEachKey(b, keys, () -> new Extend(ownerId, leaseMillis), "extend", false);
        boolean all = extended == keys.size();
        if (log.isDebugEnabled()) {
            log.debug("{}: {} lease on {} for {} to {}", id, all ? "extended" : "could not extend", keys,
                    describe(ownerId), lease);
        }
        return all;
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        Backend b = backend();
        boolean all = onEachKey(b, keys, () -> new Release(ownerId, true), "release", true) == keys.size();
        if (log.isDebugEnabled()) {
            log.debug("{}: released {} for {}: {}", id, keys, describe(ownerId), all ? "all" : "not all");
        }
        return all;
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        Backend b = backend();
        if (ownerId == null) {
            try {
                // Not clear(): a waiter's free entry must be written (its update wakes the waiter), and clear()
                // would not say which keys were ours.
                uninterruptibly(() -> b.locks.executeOnEntries(new ReleaseEvery()));
            } catch (RuntimeException e) {
                throw translate(e, "releaseAll", "every key");
            }
            log.debug("{}: released every lock in map {}", id, mapName);
            return;
        }
        // An index lookup finds the owner's keys; each is then released by its own step, which checks the
        // owner again and waits for a concurrent acquire on that key instead of racing with it.
        index(b);
        Set<String> keys;
        try {
            // instanceOf first: a value of another type in the map (which has no owner) is skipped, not an
            // error that would stop every releaseAll(owner). With the index, Hazelcast looks up the owner
            // through it and filters the few entries found.
            Predicate<String, LockEntry> owned = Predicates.and(Predicates.instanceOf(LockEntry.class),
                    Predicates.equal("owner", ownerId));
            keys = uninterruptibly(() -> b.locks.keySet(owned));
        } catch (RuntimeException e) {
            throw translate(e, "releaseAll", "the keys of " + describe(ownerId));
        }
        int released = onEachKey(b, List.copyOf(keys), () -> new Release(ownerId, false), "releaseAll", false);
        log.debug("{}: released {} lock(s) of {}", id, released, describe(ownerId));
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        Backend b = backend();
        Outcome outcome = call(b, key, new Inspect(), "inspect");
        if (outcome.status() == Status.FOREIGN) {
            throw foreign(key, outcome, "inspect");
        }
        LockEntry entry = outcome.entry();
        if (outcome.status() != Status.HELD || entry == null) {
            return Optional.empty();
        }
        Instant expiresAt = entry.expiresAt() == LockEntry.NEVER ? null : Instant.ofEpochMilli(entry.expiresAt());
        return Optional.of(new LockInfo(key, entry.owner(), expiresAt, entry.token()));
    }

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Backend b = backend();
        long slice = Math.min(recheckMillis, Math.max(1, toMillisCeil(maxWait)));
        listen(b);
        // Register first: a release that happens while we look at the keys still wakes us.
        Waiters.Waiter waiter = waiters.register(keys);
        try {
            Map<String, Outcome> states = watch(b, keys);
            for (String key : keys) {
                Outcome state = states.get(key);
                if (state == null || state.status() != Status.HELD) {
                    return;
                }
                if (state.remainingMillis() > 0) {
                    slice = Math.min(slice, state.remainingMillis());
                }
            }
            waiter.await(slice);
        } finally {
            waiters.unregister(waiter);
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
        waiters.wakeAll();
        deadlines.close();
        if (b == null) {
            return;
        }
        try {
            if (source.owned()) {
                b.instance.shutdown();
            } else {
                UUID listenerId = b.listenerId;
                if (listenerId != null && b.running()) {
                    b.locks.removeEntryListener(listenerId);
                }
            }
        } catch (RuntimeException e) {
            log.warn("{}: closing {} failed: {}", id, source, e.toString());
        }
        log.info("{}: closed ({})", id, source);
    }

    @Override
    public String toString() {
        return "HazelcastLockingProvider[" + id + ", map " + mapName + ", " + source + "]";
    }

    /** Whether anyone waits in {@link #awaitRelease}; for tests. */
    boolean hasWaiters() {
        return !waiters.isEmpty();
    }

    // --- the backend ---------------------------------------------------------------------------------

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
            b = uninterruptibly(this::start);
            backend = b;
            return b;
        }
    }

    private Backend start() {
        HazelcastInstance instance;
        try {
            instance = source.start();
        } catch (RuntimeException e) {
            throw new ProviderUnavailableException(id + ": could not start " + source + ": " + e.getMessage(), e);
        }
        try {
            IMap<String, LockEntry> locks = instance.getMap(mapName);
            log.info("{}: using {} (map {})", id, source, mapName);
            return new Backend(instance, locks);
        } catch (RuntimeException e) {
            if (source.owned()) {
                try {
                    instance.shutdown();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw translate(e, "prepare map " + mapName, "");
        }
    }

    /**
     * Registers the release listener on first need: before this instance's first wait. Until then no member
     * evaluates its predicate on every update. A release that follows the waiter's {@link Watch} reaches a
     * listener registered before it.
     */
    private void listen(Backend b) {
        if (b.listenerId != null) {
            return;
        }
        synchronized (b) {
            if (b.listenerId == null) {
                try {
                    b.listenerId = uninterruptibly(() -> b.locks.addEntryListener(new ReleaseListener(waiters),
                            new ReleaseListener.Freed(), false));
                } catch (RuntimeException e) {
                    throw translate(e, "listen to releases on map " + mapName, "");
                }
            }
        }
    }

    /**
     * Adds the {@code owner} index on first need: at this instance's first {@code releaseAll(owner)}. The
     * call is idempotent (every provider instance asks for the same index); the first one on a map reads the
     * whole map once to build it, and from then on every write to the map keeps it up to date, which costs
     * the members about 4 us of CPU per acquire-and-release on the bench machine (a fifth of the steps' own
     * cost), so maps that never see {@code releaseAll(owner)} do without. A query that runs while a member
     * still builds the index scans instead, with the same result.
     */
    private void index(Backend b) {
        if (b.indexed) {
            return;
        }
        synchronized (b) {
            if (!b.indexed) {
                try {
                    // A value without an owner attribute (another program's data) makes Hazelcast's addIndex fail
                    // half-way, and the half-built index then refuses to remove that very value. So look first
                    // (a read of the whole map, as building the index is); with such data, do without the index:
                    // the lookup scans instead (same result, slower), and the next releaseAll(owner) looks again.
                    Set<String> foreign = uninterruptibly(() -> b.locks.keySet(
                            Predicates.not(Predicates.instanceOf(LockEntry.class))));
                    if (!foreign.isEmpty()) {
                        if (!b.indexRefused) {
                            b.indexRefused = true;
                            log.warn("{}: map {} holds data that is not a lock of this provider (at {} key(s), such as"
                                    + " \"{}\"); releaseAll(owner) reads the whole map until that data is removed", id,
                                    mapName, foreign.size(), foreign.iterator().next());
                        }
                        return;
                    }
                    uninterruptibly(() -> {
                        b.locks.addIndex(new IndexConfig(IndexType.HASH, "owner"));
                        return null;
                    });
                } catch (RuntimeException e) {
                    if (!causedBy(e, QueryException.class)) {
                        throw translate(e, "add the owner index to map " + mapName, "");
                    }
                    // Foreign data written between the look and the index: scan, as above.
                    log.warn("{}: could not index map {}; releaseAll(owner) reads the whole map: {}", id, mapName,
                            e.toString());
                    return;
                }
                b.indexed = true;
            }
        }
    }

    // --- calls ---------------------------------------------------------------------------------------

    private void rollback(Backend b, List<Taken> taken) {
        for (int i = taken.size() - 1; i >= 0; i--) {
            Taken t = taken.get(i);
            LockEntry entry = required(t.outcome().entry(), t.key());
            LockEntry previous = t.outcome().previous();
            if (t.outcome().status() == Status.REENTERED && (previous == null || previous.equals(entry))) {
                continue; // a re-entry without a lease changed nothing
            }
            try {
                Outcome undone = call(b, t.key(), previous == null ? new Undo(entry.token()) : new Restore(previous),
                        "roll back");
                if (undone.status() != Status.DONE) {
                    log.debug("{}: nothing to roll back on \"{}\" (its lease lapsed meanwhile)", id, t.key());
                }
            } catch (RuntimeException e) {
                log.warn("{}: could not roll back \"{}\" after a failed multi-key acquire; it stays held until its"
                        + " lease lapses, or until released if it has none: {}", id, t.key(), e.toString());
            }
        }
    }

    /**
     * One step on one key: a synchronous call (see {@link #sync}) where {@link Backend#direct} allows it,
     * otherwise an asynchronous one awaited until the deadline.
     */
    private Outcome call(Backend b, String key, EntryProcessor<String, LockEntry, Outcome> processor, String what) {
        if (b.direct(key)) {
            try {
                return sync(() -> b.locks.executeOnKey(key, processor), what, key, !(processor instanceof Release));
            } catch (CutShort e) {
                // An interrupt ended the wait, and the member may still carry the step out. The step may be sent
                // twice (an acquire recognises the lock its own call took by the call's nonce; a rollback names
                // the token it undoes; the others only read or set a lease), so it goes again, asynchronously,
                // and the answer is awaited without answering interrupts; the flag stays set for the caller. A
                // release is not sent again: the key may have been taken anew meanwhile, by an anonymous lock
                // that a second release would free. It fails as before ("may still take effect").
                log.debug("{}: {} \"{}\" was interrupted while waiting for its answer; sending it again", id, what,
                        key);
            }
        }
        return await(submit(() -> b.locks.submitToKey(key, processor)), deadline(), what, key);
    }

    /** An interrupt that ended a synchronous call's wait, for a caller that sends the call again. */
    private static final class CutShort extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CutShort(Throwable cause) {
            super(cause);
        }
    }

    /**
     * Makes a synchronous Hazelcast call, whose answer arrives on this thread with no future in between.
     * (Hazelcast completes the future of an asynchronous call through its default async executor: on a machine
     * with at most two cores that starts a new thread for every call, elsewhere it is a hand-over to the common
     * pool.) The call waits at most {@code operationTimeout}: {@link CallDeadlines} interrupts a client that
     * still waits then. An interrupt already pending is ignored and kept; one that arrives during the call
     * ends a client's wait, and then {@link CutShort} is thrown if {@code resendable} (the caller sends the
     * call again), else a {@link LockingException} (the call may still take effect).
     */
    private <R> R sync(Supplier<R> call, String what, Object keys, boolean resendable) {
        boolean interrupted = Thread.interrupted();
        CallDeadlines.Call watched = deadlines.begin(deadline());
        boolean ended = false;
        try {
            R answer = call.get();
            ended = true;
            deadlines.end(watched); // an answer that came just as the deadline passed still counts
            return answer;
        } catch (RuntimeException e) {
            ended = true;
            if (deadlines.end(watched)) {
                throw new ProviderUnavailableException(id + ": " + what + " " + quote(keys)
                        + " got no answer from Hazelcast within " + operationTimeout, e);
            }
            if (resendable && interruptedBy(e)) {
                throw new CutShort(e);
            }
            throw translate(e, what, keys);
        } finally {
            if (!ended) {
                deadlines.end(watched);
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Runs one step on each key and counts the keys where it took effect ({@link Status#DONE}). One key is
     * one synchronous {@link #call}; several keys are sent together, each as its own step (a multi-key call
     * would give all of them one backup processor), and their answers are awaited until one common deadline.
     */
    private int onEachKey(Backend b, List<String> keys, Supplier<EntryProcessor<String, LockEntry, Outcome>> step,
            String what, boolean failOnForeign) {
        if (keys.size() == 1) {
            Outcome outcome = call(b, keys.get(0), step.get(), what);
            if (failOnForeign && outcome.status() == Status.FOREIGN) {
                throw foreign(keys.get(0), outcome, what);
            }
            return outcome.status() == Status.DONE ? 1 : 0;
        }
        long deadline = deadline();
        List<CompletableFuture<Outcome>> answers = new ArrayList<>(keys.size());
        for (String key : keys) {
            EntryProcessor<String, LockEntry, Outcome> processor = step.get();
            answers.add(submit(() -> b.locks.submitToKey(key, processor)));
        }
        int done = 0;
        LockingException foreign = null;
        for (int i = 0; i < keys.size(); i++) {
            Outcome outcome = await(answers.get(i), deadline, what, keys.get(i));
            done += outcome.status() == Status.DONE ? 1 : 0;
            if (failOnForeign && foreign == null && outcome.status() == Status.FOREIGN) {
                foreign = foreign(keys.get(i), outcome, what);
            }
        }
        if (foreign != null) {
            throw foreign;
        }
        return done;
    }

    /**
     * Marks the keys as waited for (see {@link Watch}) and reads their state, in one call (synchronous from a
     * client, asynchronous from a member, whose keys may live on other members).
     *
     * @throws InterruptedException if the thread is interrupted during a client's call
     */
    private Map<String, Outcome> watch(Backend b, List<String> keys) throws InterruptedException {
        try {
            if (keys.size() == 1) {
                String key = keys.get(0);
                Outcome state = call(b, key, new Watch(), "inspect");
                return Map.of(key, state);
            }
            if (b.member) {
                return await(submit(() -> b.locks.submitToKeys(new LinkedHashSet<>(keys), new Watch())), deadline(),
                        "inspect", keys);
            }
            return sync(() -> b.locks.executeOnKeys(new LinkedHashSet<>(keys), new Watch()), "inspect", keys, false);
        } catch (LockingException e) {
            if (!(e instanceof ProviderUnavailableException) && interruptedBy(e)) {
                Thread.interrupted();
                throw new InterruptedException("interrupted while reading " + keys + " from Hazelcast");
            }
            throw e;
        }
    }

    /** A random, non-zero nonce for one acquire call (see {@link Acquire}). */
    private static long nonce() {
        long n;
        do {
            n = ThreadLocalRandom.current().nextLong();
        } while (n == 0);
        return n;
    }

    private long deadline() {
        return System.nanoTime() + operationTimeout.toNanos();
    }

    /**
     * Sends a call and returns a future of our own for its answer. Waiting never touches Hazelcast's future:
     * an interrupted {@code get} on it completes it with the {@link InterruptedException}, and every later
     * {@code get} would throw that again.
     */
    private static <R> CompletableFuture<R> submit(Supplier<CompletionStage<R>> call) {
        CompletableFuture<R> answer = new CompletableFuture<>();
        try {
            // Run the callback on the thread that completes Hazelcast's future: a plain whenComplete goes
            // to Hazelcast's default async executor, which starts a new thread per task where the common
            // pool has one thread (every 2-CPU machine). The callback only completes our own future. (The
            // future Hazelcast returns still hands its own completion to that executor; that is why calls on
            // one key are synchronous.)
            call.get().whenCompleteAsync((result, failure) -> {
                if (failure != null) {
                    answer.completeExceptionally(failure);
                } else {
                    answer.complete(result);
                }
            }, Runnable::run);
        } catch (RuntimeException e) {
            answer.completeExceptionally(e);
        }
        return answer;
    }

    /** Runs a blocking Hazelcast call with the interrupt flag cleared, and sets the flag again afterwards. */
    private static <R> R uninterruptibly(Supplier<R> call) {
        boolean interrupted = Thread.interrupted();
        try {
            return call.get();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits for an answer until the deadline, ignoring interrupts (the flag is restored). */
    private <R> R await(CompletableFuture<R> answer, long deadline, String what, Object keys) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof CompletionException && cause.getCause() != null) {
                        cause = cause.getCause();
                    }
                    throw translate(cause == null ? e : cause, what, keys);
                } catch (TimeoutException e) {
                    throw new ProviderUnavailableException(id + ": " + what + " " + quote(keys)
                            + " got no answer from Hazelcast within " + operationTimeout, e);
                } catch (RuntimeException e) {
                    throw translate(e, what, keys);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private LockingException translate(Throwable failure, String what, Object keys) {
        if (failure instanceof LockingException locking) {
            return locking;
        }
        String where = id + ": " + what + (keys.toString().isEmpty() ? "" : " " + quote(keys)) + " failed";
        if (interruptedBy(failure)) {
            // Hazelcast keeps the flag set; the call may have reached the member anyway.
            return new LockingException(where + ": interrupted while waiting for Hazelcast's answer; the call may"
                    + " still take effect (a lock it takes lapses with its lease)", failure);
        }
        if (isMissingClass(failure)) {
            return new LockingException(where + ": a member could not load Locking's classes; put the"
                    + " locking-provider-hazelcast jar on the classpath of every member (" + failure + ")", failure);
        }
        if (failure instanceof IllegalArgumentException || failure instanceof UnsupportedOperationException
                || failure instanceof ClassCastException || failure instanceof NullPointerException) {
            return new LockingException(where + ": " + failure, failure);
        }
        return new ProviderUnavailableException(where + ": " + failure, failure);
    }

    /**
     * A key that holds a value this provider did not write: the step changed nothing there. Not a
     * {@link ProviderUnavailableException}: the backend answered, and retrying will not help.
     */
    private LockingException foreign(String key, Outcome outcome, String what) {
        return new LockingException(id + ": " + what + " \"" + key + "\" failed: the key holds data that is not a"
                + " lock of this provider (" + outcome.detail() + ") in map " + mapName + "; it was left as it is."
                + " Remove it, or give this provider a map of its own (option mapName)");
    }

    private static boolean interruptedBy(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static boolean isMissingClass(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HazelcastSerializationException || t instanceof ClassNotFoundException
                    || t instanceof NoClassDefFoundError) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static LockEntry required(@Nullable LockEntry entry, String key) {
        if (entry == null) {
            throw new LockingException("Hazelcast returned no lock entry for \"" + key + "\"");
        }
        return entry;
    }

    private static long toMillisCeil(Duration duration) {
        try {
            long millis = duration.toMillis();
            return duration.minusMillis(millis).isZero() ? millis : millis + 1;
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static String quote(Object keys) {
        return keys instanceof String ? "\"" + keys + "\"" : String.valueOf(keys);
    }

    private static String describe(@Nullable String ownerId) {
        return ownerId == null ? "anonymous" : "owner \"" + ownerId + "\"";
    }
}
