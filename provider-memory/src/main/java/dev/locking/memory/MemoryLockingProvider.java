package dev.locking.memory;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The in-memory {@code lp_memory} provider: per-key records in a concurrent map, striped locks for
 * all-or-nothing multi-key operations, FIFO hand-off to waiters, and a background expiry sweep. See the
 * "Concurrency:" comment in the source for the design.
 */
final class MemoryLockingProvider implements LockingProvider {

    /*
     * Concurrency:
     *
     * State. Three concurrent maps, each keyed by a lock key or an owner:
     *  - records:  key -> LockRecord (immutable: owner or null, fencing token, monotonic deadline,
     *              wall-clock expiresAt or null for "never"). Present while the key is held, and until
     *              an expired record is noticed (on access, by a waiter, or by the sweeper).
     *  - queues:   key -> WaitQueue (FIFO of parked Waiters plus an optional reservation). Present only
     *              while someone waits on the key or the key is reserved.
     *  - owners:   owner -> OwnedKeys (the keys whose record names that owner). Present only while the
     *              owner holds at least one key.
     * A key is in one of these states:
     *   FREE      no live record, no reservation (no entry in any map, or an expired record);
     *   HELD      a live record; waiters may be queued;
     *   RESERVED  no live record, queue.reservedFor = a thread: the key was freed while threads waited
     *             and is handed to the head waiter's thread until that thread's next tryAcquire, its
     *             interrupt, or reservedUntil (now + grace), whichever is first.
     *
     * Locks. A fixed array of STRIPE_COUNT ReentrantLocks ("stripes"); a key belongs to stripe
     * stripeIndex(key). Every read or write of records, queues, a WaitQueue, or Stripe.queueCount for a
     * key happens with that key's stripe held. An operation on several keys locks their distinct stripes
     * in ascending index order (so two calls can never wait on each other in a cycle), reads and checks
     * everything, then writes everything, then unlocks: nobody can observe a partial multi-key change.
     * inspect() takes the stripe too, so it is linearizable with multi-key writes. There is no global lock;
     * releaseAll(null) and close() take every stripe in ascending order.
     * OwnedKeys has its own monitor (a leaf lock, taken with one or more stripes held, never the other way
     * round), because one owner's keys live in many stripes. A retired (emptied) OwnedKeys is removed from
     * the map inside its monitor, so an adder that finds it retired simply looks again.
     * releaseAll(owner) snapshots the owner's keys, locks their stripes, and re-reads the owner's keys
     * under those locks; if a key was added in a stripe it does not hold it retries holding every stripe.
     *
     * Invariants (with the stripe held):
     *  - a key is in owners.get(o) iff records.get(key) exists with owner o;
     *  - queues.get(key) exists iff it has waiters or a reservation; Stripe.queueCount counts them;
     *  - a reservation exists only while the key has no live record;
     *  - a FREE key (no live record) with queued waiters is RESERVED: every path that frees a key
     *    (release, releaseAll, expiry on access, sweep) goes through removeRecord -> handOff, which
     *    pops the head waiter, reserves the key for its thread and unparks it (FIFO), or drops the
     *    queue when nobody waits.
     *  - fencing tokens come from one AtomicLong, so a new take of any key gets a larger token than
     *    every earlier take; re-entry keeps the token.
     *
     * Waiting. awaitRelease enqueues one Waiter on every key not available to its thread (held, or
     * reserved for another thread) under the stripes, or returns at once if all are available. It then
     * parks until signalled (handOff), closed, interrupted, or Waiter.parkUntil, the earliest of its own
     * deadline, the lease deadlines of the held keys and the reservation deadlines of the reserved keys.
     * Whoever installs an earlier lease deadline or a new reservation lowers parkUntil (CAS) and unparks
     * the waiter. When parkUntil passes, the waiter takes its stripes and expires what has lapsed itself,
     * which may hand a key to it. On leaving, it dequeues itself; an interrupted waiter passes any
     * reservation it holds to the next waiter. Signals are a volatile flag plus LockSupport.unpark, both
     * issued under the key's stripe after the waiter was enqueued under the same stripe, so no wake-up is
     * lost.
     *
     * Sweeper. One daemon thread, started on the first use of a lease and stopped by close(), walks
     * records every sweepInterval and expires lapsed ones (handing them to waiters), and ends lapsed
     * reservations. It takes one stripe at a time, and holds the provider only weakly between sweeps,
     * so a provider dropped without close() lets its sweeper end.
     */

    /** Number of lock stripes; a power of two. */
    static final int STRIPE_COUNT = 1024;

    /** How often expired records are swept away when no option says otherwise. */
    static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(1);

    /** How long a released key stays reserved for the waiter it was handed to. */
    static final Duration DEFAULT_HANDOFF_GRACE = Duration.ofMillis(250);

    private static final long MAX_WAIT_NANOS = Long.MAX_VALUE / 4;
    /** Returned by {@link #blockedUntil} for a key the thread could take now. */
    private static final long NOT_BLOCKED = Long.MIN_VALUE;
    private static final System.Logger LOG = System.getLogger(MemoryLockingProvider.class.getName());

    private final String id;
    private final LockingClock time;
    private final long sweepIntervalNanos;
    private final long graceNanos;
    private final Stripe[] stripes = new Stripe[STRIPE_COUNT];
    private final ConcurrentHashMap<String, LockRecord> records = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, WaitQueue> queues = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, OwnedKeys> owners = new ConcurrentHashMap<>();
    private final AtomicLong lastToken = new AtomicLong();
    private final Object lifecycle = new Object();
    private volatile boolean closed;
    private volatile @Nullable Thread sweeper;

    /**
     * Creates a provider.
     *
     * @param id            the provider id
     * @param time          the clocks
     * @param sweepInterval time between two background sweeps, positive
     * @param handoffGrace  how long a key handed to a waiter stays reserved for it, positive
     */
    MemoryLockingProvider(String id, LockingClock time, Duration sweepInterval, Duration handoffGrace) {
        if (sweepInterval.isNegative() || sweepInterval.isZero()) {
            throw new IllegalArgumentException("sweepInterval must be positive: " + sweepInterval);
        }
        if (handoffGrace.isNegative() || handoffGrace.isZero()) {
            throw new IllegalArgumentException("handoffGrace must be positive: " + handoffGrace);
        }
        this.id = id;
        this.time = time;
        this.sweepIntervalNanos = saturatedNanos(sweepInterval);
        this.graceNanos = saturatedNanos(handoffGrace);
        for (int i = 0; i < STRIPE_COUNT; i++) {
            stripes[i] = new Stripe();
        }
    }

    @Override
    public String id() {
        return id;
    }

    // ---------------------------------------------------------------------------------------------
    // tryAcquire

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        long leaseNanos = 0;
        Instant expiresAt = null;
        if (lease != null) {
            // Capped at Leases.MAX, so that deadlines never overflow.
            leaseNanos = Leases.toNanos(lease);
            expiresAt = Leases.expiresAt(time.wallTime(), lease);
            startSweeperIfNeeded();
        }
        if (keys.size() == 1) {
            return tryAcquireOne(keys.get(0), ownerId, leaseNanos, expiresAt);
        }
        return tryAcquireMany(keys, ownerId, leaseNanos, expiresAt);
    }

    private AcquireResult tryAcquireOne(String key, @Nullable String ownerId, long leaseNanos,
            @Nullable Instant expiresAt) {
        Stripe stripe = stripes[stripeIndex(key)];
        stripe.lock();
        try {
            checkOpen();
            // The clock is read only when a lease or a reservation is involved.
            LockRecord held = liveRecord(stripe, key);
            if (held != null) {
                if (ownerId == null || !ownerId.equals(held.owner)) {
                    return new AcquireResult.Conflict(key);
                }
                if (expiresAt != null) {
                    held = renew(stripe, key, held, time.nanoTime() + leaseNanos, expiresAt);
                }
                return new AcquireResult.Acquired(Map.of(key, held.token), held.expiresAt);
            }
            if (stripe.queueCount > 0 && reservedForAnother(stripe, key)) {
                return new AcquireResult.Conflict(key);
            }
            long deadline = expiresAt == null ? 0 : time.nanoTime() + leaseNanos;
            LockRecord taken = take(stripe, key, ownerId, deadline, expiresAt);
            return new AcquireResult.Acquired(Map.of(key, taken.token), taken.expiresAt);
        } finally {
            stripe.unlock();
        }
    }

    private AcquireResult tryAcquireMany(List<String> keys, @Nullable String ownerId, long leaseNanos,
            @Nullable Instant expiresAt) {
        int[] locked = stripeSet(keys);
        lock(locked);
        try {
            checkOpen();
            int n = keys.size();
            for (int i = 0; i < n; i++) {
                String key = keys.get(i);
                Stripe stripe = stripes[stripeIndex(key)];
                LockRecord held = liveRecord(stripe, key);
                boolean blocked = held != null
                        ? ownerId == null || !ownerId.equals(held.owner)
                        : stripe.queueCount > 0 && reservedForAnother(stripe, key);
                if (blocked) {
                    passOnReservations(keys);
                    return new AcquireResult.Conflict(key);
                }
            }
            long deadline = expiresAt == null ? 0 : time.nanoTime() + leaseNanos;
            Map<String, Long> tokens = new HashMap<>();
            Instant earliest = null;
            for (int i = 0; i < n; i++) {
                String key = keys.get(i);
                Stripe stripe = stripes[stripeIndex(key)];
                LockRecord rec = records.get(key);
                if (rec == null) {
                    rec = take(stripe, key, ownerId, deadline, expiresAt);
                } else if (expiresAt != null) {
                    rec = renew(stripe, key, rec, deadline, expiresAt);
                }
                tokens.put(key, rec.token);
                if (rec.expiresAt != null && (earliest == null || rec.expiresAt.isBefore(earliest))) {
                    earliest = rec.expiresAt;
                }
            }
            // The lease lapses when its first key does; it never lapses only if no key ever does.
            return new AcquireResult.Acquired(tokens, earliest);
        } finally {
            unlock(locked);
        }
    }

    /** Takes a free key: a new record with a new token; clears this thread's reservation. */
    private LockRecord take(Stripe stripe, String key, @Nullable String ownerId, long deadline,
            @Nullable Instant expiresAt) {
        LockRecord rec = new LockRecord(ownerId, lastToken.incrementAndGet(), deadline, expiresAt);
        records.put(key, rec);
        if (ownerId != null) {
            index(ownerId, key);
        }
        if (stripe.queueCount > 0) {
            WaitQueue queue = queues.get(key);
            if (queue != null) {
                queue.reservedFor = null;
                if (queue.waiters.isEmpty()) {
                    dropQueue(stripe, key);
                } else if (expiresAt != null) {
                    wakeWaitersBy(queue, deadline);
                }
            }
        }
        return rec;
    }

    /** Gives a held key a new lease; owner and token stay. */
    private LockRecord renew(Stripe stripe, String key, LockRecord held, long deadline, Instant expiresAt) {
        LockRecord rec = new LockRecord(held.owner, held.token, deadline, expiresAt);
        records.put(key, rec);
        if (stripe.queueCount > 0) {
            WaitQueue queue = queues.get(key);
            if (queue != null) {
                wakeWaitersBy(queue, deadline);
            }
        }
        return rec;
    }

    /** After a failed multi-key attempt: keys reserved for this thread go to their next waiter. */
    private void passOnReservations(List<String> keys) {
        Thread me = Thread.currentThread();
        for (int i = 0, n = keys.size(); i < n; i++) {
            String key = keys.get(i);
            Stripe stripe = stripes[stripeIndex(key)];
            if (stripe.queueCount > 0) {
                WaitQueue queue = queues.get(key);
                if (queue != null && queue.reservedFor == me) {
                    handOff(stripe, key, queue);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // extend, release, releaseAll, inspect

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        long leaseNanos = Leases.toNanos(lease);
        Instant expiresAt = Leases.expiresAt(time.wallTime(), lease);
        startSweeperIfNeeded();
        int[] locked = stripeSet(keys);
        lock(locked);
        try {
            checkOpen();
            int n = keys.size();
            for (int i = 0; i < n; i++) {
                String key = keys.get(i);
                LockRecord held = liveRecord(stripes[stripeIndex(key)], key);
                if (held == null || !ownerId.equals(held.owner)) {
                    return false;
                }
            }
            long deadline = time.nanoTime() + leaseNanos;
            for (int i = 0; i < n; i++) {
                String key = keys.get(i);
                Stripe stripe = stripes[stripeIndex(key)];
                LockRecord held = records.get(key);
                if (held != null) {
                    renew(stripe, key, held, deadline, expiresAt);
                }
            }
            return true;
        } finally {
            unlock(locked);
        }
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        if (keys.size() == 1) {
            String key = keys.get(0);
            Stripe stripe = stripes[stripeIndex(key)];
            stripe.lock();
            try {
                checkOpen();
                return releaseLocked(stripe, key, ownerId);
            } finally {
                stripe.unlock();
            }
        }
        int[] locked = stripeSet(keys);
        lock(locked);
        try {
            checkOpen();
            boolean all = true;
            for (int i = 0, n = keys.size(); i < n; i++) {
                String key = keys.get(i);
                if (!releaseLocked(stripes[stripeIndex(key)], key, ownerId)) {
                    all = false;
                }
            }
            return all;
        } finally {
            unlock(locked);
        }
    }

    private boolean releaseLocked(Stripe stripe, String key, @Nullable String ownerId) {
        LockRecord held = liveRecord(stripe, key);
        if (held == null) {
            return false;
        }
        if (held.owner != null && !held.owner.equals(ownerId)) {
            return false;
        }
        removeRecord(stripe, key, held);
        return true;
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        if (ownerId == null) {
            releaseEverything();
            return;
        }
        boolean everyStripe = false;
        while (true) {
            OwnedKeys owned = owners.get(ownerId);
            if (owned == null) {
                checkOpen();
                return;
            }
            int[] locked = everyStripe ? allStripes() : stripeSet(Arrays.asList(owned.snapshot()));
            lock(locked);
            try {
                checkOpen();
                OwnedKeys current = owners.get(ownerId);
                if (current == null) {
                    return;
                }
                String[] keys = current.snapshot();
                if (!everyStripe && !covers(locked, keys)) {
                    // The owner took a key in a stripe we do not hold: take them all this time.
                    everyStripe = true;
                    continue;
                }
                for (String key : keys) {
                    LockRecord held = records.get(key);
                    if (held != null && ownerId.equals(held.owner)) {
                        removeRecord(stripes[stripeIndex(key)], key, held);
                    }
                }
                return;
            } finally {
                unlock(locked);
            }
        }
    }

    private void releaseEverything() {
        lockAll();
        try {
            checkOpen();
            for (Map.Entry<String, LockRecord> entry : records.entrySet()) {
                String key = entry.getKey();
                removeRecord(stripes[stripeIndex(key)], key, entry.getValue());
            }
        } finally {
            unlockAll();
        }
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        Stripe stripe = stripes[stripeIndex(key)];
        stripe.lock();
        try {
            checkOpen();
            LockRecord held = liveRecord(stripe, key);
            return held == null
                    ? Optional.empty()
                    : Optional.of(new LockInfo(key, held.owner, held.expiresAt, held.token));
        } finally {
            stripe.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Records, reservations and hand-off (all with the key's stripe held)

    /** Returns the key's record if it is live; an expired one is removed (and handed on) first. */
    private @Nullable LockRecord liveRecord(Stripe stripe, String key) {
        LockRecord rec = records.get(key);
        if (rec != null && rec.expiresAt != null && rec.isExpired(time.nanoTime())) {
            removeRecord(stripe, key, rec);
            return null;
        }
        return rec;
    }

    /** Frees a key: removes its record and owner-index entry, and hands it to its first waiter. */
    private void removeRecord(Stripe stripe, String key, LockRecord rec) {
        records.remove(key);
        if (rec.owner != null) {
            unindex(rec.owner, key);
        }
        if (stripe.queueCount > 0) {
            WaitQueue queue = queues.get(key);
            if (queue != null) {
                handOff(stripe, key, queue);
            }
        }
    }

    /**
     * Whether a free key is reserved for a thread other than the current one. A lapsed reservation is
     * passed on first.
     */
    private boolean reservedForAnother(Stripe stripe, String key) {
        WaitQueue queue = queues.get(key);
        if (queue == null) {
            return false;
        }
        Thread reserved = queue.reservedFor;
        if (reserved == null || reserved == Thread.currentThread()) {
            return false;
        }
        if (time.nanoTime() - queue.reservedUntil >= 0) {
            handOff(stripe, key, queue);
            return queue.reservedFor != null;
        }
        return true;
    }

    /**
     * Hands a free key to the first waiter in line: reserves it for that waiter's thread and wakes it.
     * With nobody waiting, the reservation ends and the queue goes.
     */
    private void handOff(Stripe stripe, String key, WaitQueue queue) {
        Waiter next = queue.waiters.pollFirst();
        if (next == null) {
            queue.reservedFor = null;
            dropQueue(stripe, key);
            return;
        }
        queue.reservedFor = next.thread;
        queue.reservedUntil = time.nanoTime() + graceNanos;
        next.signal();
        Waiter after = queue.waiters.peekFirst();
        if (after != null) {
            // If the reservation lapses unused, the next in line takes it over.
            after.wakeBy(queue.reservedUntil);
        }
    }

    private static void wakeWaitersBy(WaitQueue queue, long deadline) {
        for (Waiter waiter : queue.waiters) {
            waiter.wakeBy(deadline);
        }
    }

    private WaitQueue queueFor(Stripe stripe, String key) {
        WaitQueue queue = queues.get(key);
        if (queue == null) {
            queue = new WaitQueue();
            queues.put(key, queue);
            stripe.queueCount++;
        }
        return queue;
    }

    private void dropQueue(Stripe stripe, String key) {
        if (queues.remove(key) != null) {
            stripe.queueCount--;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Owner index

    private void index(String ownerId, String key) {
        while (true) {
            OwnedKeys owned = owners.get(ownerId);
            if (owned == null) {
                if (owners.putIfAbsent(ownerId, new OwnedKeys(key)) == null) {
                    return;
                }
            } else if (owned.add(key)) {
                return;
            }
            // Lost a race with a concurrent add or with the retirement of an emptied entry: look again.
        }
    }

    private void unindex(String ownerId, String key) {
        OwnedKeys owned = owners.get(ownerId);
        if (owned != null) {
            owned.remove(ownerId, key, owners);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // awaitRelease

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        long waitNanos = Math.min(saturatedNanos(maxWait), MAX_WAIT_NANOS);
        int[] locked = stripeSet(keys);
        Waiter waiter = new Waiter(Thread.currentThread());
        long deadline;
        lock(locked);
        try {
            checkOpen();
            long now = time.nanoTime();
            deadline = now + waitNanos;
            if (!enqueueIfBlocked(keys, waiter, now, deadline)) {
                return;
            }
        } finally {
            unlock(locked);
        }
        boolean interrupted = false;
        try {
            while (!waiter.signalled && !closed) {
                long now = time.nanoTime();
                long parkUntil = waiter.parkUntil;
                if (now - parkUntil >= 0) {
                    if (now - deadline >= 0) {
                        break;
                    }
                    boolean stillBlocked;
                    lock(locked);
                    try {
                        stillBlocked = refresh(keys, waiter, now, deadline);
                    } finally {
                        unlock(locked);
                    }
                    if (!stillBlocked) {
                        break;
                    }
                    continue;
                }
                LockSupport.parkNanos(this, parkUntil - now);
                if (Thread.interrupted()) {
                    interrupted = true;
                    break;
                }
            }
        } finally {
            lock(locked);
            try {
                leave(keys, waiter, interrupted);
            } finally {
                unlock(locked);
            }
        }
        if (interrupted) {
            throw new InterruptedException();
        }
    }

    /**
     * Enqueues the waiter on every key its thread cannot take now, and sets its first wake-up time.
     *
     * @return false, without enqueuing, if every key is available to the calling thread
     */
    private boolean enqueueIfBlocked(List<String> keys, Waiter waiter, long now, long deadline) {
        int n = keys.size();
        boolean[] blocked = new boolean[n];
        boolean any = false;
        long wakeAt = deadline;
        for (int i = 0; i < n; i++) {
            String key = keys.get(i);
            long until = blockedUntil(stripes[stripeIndex(key)], key, now, waiter.thread);
            if (until != NOT_BLOCKED) {
                blocked[i] = true;
                any = true;
                if (until - wakeAt < 0) {
                    wakeAt = until;
                }
            }
        }
        if (!any) {
            return false;
        }
        waiter.parkUntil = wakeAt;
        for (int i = 0; i < n; i++) {
            if (blocked[i]) {
                String key = keys.get(i);
                queueFor(stripes[stripeIndex(key)], key).waiters.addLast(waiter);
            }
        }
        return true;
    }

    /**
     * Called when the waiter's wake-up time passed: expires what lapsed on its keys (which may hand a
     * key to this very waiter) and sets the next wake-up time.
     *
     * @return false if no key blocks the waiter any more (it should return)
     */
    private boolean refresh(List<String> keys, Waiter waiter, long now, long deadline) {
        long wakeAt = deadline;
        boolean any = false;
        for (int i = 0, n = keys.size(); i < n; i++) {
            String key = keys.get(i);
            long until = blockedUntil(stripes[stripeIndex(key)], key, now, waiter.thread);
            if (until != NOT_BLOCKED) {
                any = true;
                if (until - wakeAt < 0) {
                    wakeAt = until;
                }
            }
        }
        if (waiter.signalled || !any) {
            return false;
        }
        waiter.parkUntil = wakeAt;
        return true;
    }

    /**
     * Whether a key blocks a thread, and until when at most: a live record blocks until its lease
     * deadline (or for ever), a reservation for another thread until its grace ends. Lapsed records and
     * reservations are cleaned up on the way.
     *
     * @return {@link #NOT_BLOCKED}, or the monotonic time at which the key should be looked at again
     */
    private long blockedUntil(Stripe stripe, String key, long now, Thread me) {
        LockRecord held = liveRecord(stripe, key);
        if (held != null) {
            long until = held.expiresAt == null ? now + MAX_WAIT_NANOS : held.deadline;
            return until == NOT_BLOCKED ? until + 1 : until;
        }
        if (stripe.queueCount > 0) {
            WaitQueue queue = queues.get(key);
            if (queue != null && queue.reservedFor != null && queue.reservedFor != me) {
                if (now - queue.reservedUntil >= 0) {
                    handOff(stripe, key, queue);
                    if (queue.reservedFor == null || queue.reservedFor == me) {
                        return NOT_BLOCKED;
                    }
                }
                return queue.reservedUntil == NOT_BLOCKED ? NOT_BLOCKED + 1 : queue.reservedUntil;
            }
        }
        return NOT_BLOCKED;
    }

    /** Takes the waiter off its queues; an interrupted waiter passes its reservations on. */
    private void leave(List<String> keys, Waiter waiter, boolean interrupted) {
        for (int i = 0, n = keys.size(); i < n; i++) {
            String key = keys.get(i);
            Stripe stripe = stripes[stripeIndex(key)];
            if (stripe.queueCount == 0) {
                continue;
            }
            WaitQueue queue = queues.get(key);
            if (queue == null) {
                continue;
            }
            boolean wasHead = queue.waiters.peekFirst() == waiter;
            queue.waiters.remove(waiter);
            if (interrupted && queue.reservedFor == waiter.thread) {
                handOff(stripe, key, queue);
            } else if (queue.reservedFor == null && queue.waiters.isEmpty()) {
                dropQueue(stripe, key);
            } else if (wasHead && queue.reservedFor != null) {
                Waiter head = queue.waiters.peekFirst();
                if (head != null) {
                    head.wakeBy(queue.reservedUntil);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Sweeper and close

    private void startSweeperIfNeeded() {
        if (sweeper == null) {
            synchronized (lifecycle) {
                if (sweeper == null && !closed) {
                    Thread thread = new Thread(new SweepLoop(this), "locking-" + id + "-sweeper");
                    thread.setDaemon(true);
                    sweeper = thread;
                    thread.start();
                }
            }
        }
    }

    /**
     * The sweeper's loop. It holds the provider only weakly between sweeps, so a provider dropped
     * without close() does not keep its thread (nor itself) alive for ever.
     */
    private static final class SweepLoop implements Runnable {
        private final WeakReference<MemoryLockingProvider> provider;
        private final long intervalNanos;

        SweepLoop(MemoryLockingProvider provider) {
            this.provider = new WeakReference<>(provider);
            this.intervalNanos = provider.sweepIntervalNanos;
        }

        @Override
        public void run() {
            while (true) {
                LockSupport.parkNanos(intervalNanos);
                MemoryLockingProvider current = provider.get();
                if (current == null || current.closed) {
                    return;
                }
                try {
                    current.sweep();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "Expiry sweep of " + current.id + " failed; retrying in "
                            + Duration.ofNanos(intervalNanos), e);
                }
            }
        }
    }

    /** Expires every lapsed record and ends every lapsed reservation, one stripe at a time. */
    void sweep() {
        long now = time.nanoTime();
        for (Map.Entry<String, LockRecord> entry : records.entrySet()) {
            if (entry.getValue().isExpired(now)) {
                String key = entry.getKey();
                Stripe stripe = stripes[stripeIndex(key)];
                stripe.lock();
                try {
                    if (!closed) {
                        liveRecord(stripe, key);
                    }
                } finally {
                    stripe.unlock();
                }
            }
        }
        if (queues.isEmpty()) {
            return;
        }
        for (String key : queues.keySet()) {
            Stripe stripe = stripes[stripeIndex(key)];
            stripe.lock();
            try {
                WaitQueue queue = queues.get(key);
                if (!closed && queue != null && queue.reservedFor != null && now - queue.reservedUntil >= 0) {
                    handOff(stripe, key, queue);
                }
            } finally {
                stripe.unlock();
            }
        }
    }

    @Override
    public void close() {
        Thread thread;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            thread = sweeper;
        }
        if (thread != null) {
            LockSupport.unpark(thread);
        }
        lockAll();
        try {
            for (WaitQueue queue : queues.values()) {
                for (Waiter waiter : queue.waiters) {
                    waiter.signal();
                }
            }
            queues.clear();
            records.clear();
            owners.clear();
            for (Stripe stripe : stripes) {
                stripe.queueCount = 0;
            }
        } finally {
            unlockAll();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("Provider " + id + " is closed");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Stripes

    static int stripeIndex(String key) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & (STRIPE_COUNT - 1);
    }

    /** The distinct stripe indexes of some keys, ascending. */
    private static int[] stripeSet(List<String> keys) {
        int n = keys.size();
        int[] set = new int[n];
        for (int i = 0; i < n; i++) {
            set[i] = stripeIndex(keys.get(i));
        }
        if (n < 2) {
            return set;
        }
        Arrays.sort(set);
        int distinct = 1;
        for (int i = 1; i < n; i++) {
            if (set[i] != set[distinct - 1]) {
                set[distinct++] = set[i];
            }
        }
        return distinct == n ? set : Arrays.copyOf(set, distinct);
    }

    private static int[] allStripes() {
        int[] set = new int[STRIPE_COUNT];
        for (int i = 0; i < STRIPE_COUNT; i++) {
            set[i] = i;
        }
        return set;
    }

    private static boolean covers(int[] locked, String[] keys) {
        for (String key : keys) {
            if (Arrays.binarySearch(locked, stripeIndex(key)) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Locks the given stripes in ascending order (the caller passes them sorted). */
    private void lock(int[] set) {
        for (int index : set) {
            stripes[index].lock();
        }
    }

    private void unlock(int[] set) {
        for (int i = set.length - 1; i >= 0; i--) {
            stripes[set[i]].unlock();
        }
    }

    private void lockAll() {
        for (Stripe stripe : stripes) {
            stripe.lock();
        }
    }

    private void unlockAll() {
        for (int i = STRIPE_COUNT - 1; i >= 0; i--) {
            stripes[i].unlock();
        }
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Introspection for tests

    /** The number of records (held keys, plus expired ones not yet swept). */
    int size() {
        return records.size();
    }

    /** The number of threads queued on keys, counted once per key they wait on. */
    int waiterCount() {
        lockAll();
        try {
            int count = 0;
            for (WaitQueue queue : queues.values()) {
                count += queue.waiters.size();
            }
            return count;
        } finally {
            unlockAll();
        }
    }

    /** The number of keys with a wait queue or a reservation. */
    int queueCount() {
        return queues.size();
    }

    /** The number of owners in the owner index. */
    int ownerCount() {
        return owners.size();
    }

    /** The background sweeper, once started. */
    @Nullable Thread sweeperThread() {
        return sweeper;
    }

    Duration sweepInterval() {
        return Duration.ofNanos(sweepIntervalNanos);
    }

    @Override
    public String toString() {
        return "MemoryLockingProvider[" + id + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // Internal types

    /** One lock stripe; {@code queueCount} (guarded by the stripe) counts its keys' wait queues. */
    @SuppressWarnings("serial")
    static final class Stripe extends ReentrantLock {
        int queueCount;
    }

    /** Who holds a key, since when (token) and until when. Immutable. */
    static final class LockRecord {
        final @Nullable String owner;
        final long token;
        /** Monotonic deadline; meaningful only when {@link #expiresAt} is not null. */
        final long deadline;
        final @Nullable Instant expiresAt;

        LockRecord(@Nullable String owner, long token, long deadline, @Nullable Instant expiresAt) {
            this.owner = owner;
            this.token = token;
            this.deadline = deadline;
            this.expiresAt = expiresAt;
        }

        boolean isExpired(long now) {
            return expiresAt != null && now - deadline >= 0;
        }
    }

    /** The threads waiting for one key, and the thread it is reserved for. Guarded by the key's stripe. */
    static final class WaitQueue {
        final ArrayDeque<Waiter> waiters = new ArrayDeque<>(4);
        @Nullable Thread reservedFor;
        long reservedUntil;
    }

    /** One awaitRelease call. */
    static final class Waiter {
        private static final AtomicLongFieldUpdater<Waiter> PARK_UNTIL =
                AtomicLongFieldUpdater.newUpdater(Waiter.class, "parkUntil");

        final Thread thread;
        volatile boolean signalled;
        /** When the waiter wakes up by itself to look at its keys (monotonic). */
        volatile long parkUntil;

        Waiter(Thread thread) {
            this.thread = thread;
        }

        void signal() {
            signalled = true;
            LockSupport.unpark(thread);
        }

        /** Makes the waiter wake up no later than {@code time}. */
        void wakeBy(long time) {
            while (true) {
                long current = parkUntil;
                if (current - time <= 0) {
                    return;
                }
                if (PARK_UNTIL.compareAndSet(this, current, time)) {
                    LockSupport.unpark(thread);
                    return;
                }
            }
        }
    }

    /** The keys one owner holds. Its monitor is a leaf lock. */
    static final class OwnedKeys {
        private @Nullable String single;
        private @Nullable HashSet<String> many;
        private boolean retired;

        OwnedKeys(String first) {
            this.single = first;
        }

        /** Adds a key; false if this entry was retired (and removed from the index) meanwhile. */
        synchronized boolean add(String key) {
            if (retired) {
                return false;
            }
            HashSet<String> set = many;
            if (set != null) {
                set.add(key);
            } else if (single == null) {
                single = key;
            } else {
                set = new HashSet<>();
                set.add(single);
                set.add(key);
                many = set;
                single = null;
            }
            return true;
        }

        /** Removes a key; the entry leaves the index when its last key goes. */
        synchronized void remove(String ownerId, String key, ConcurrentMap<String, OwnedKeys> index) {
            HashSet<String> set = many;
            boolean empty;
            if (set != null) {
                set.remove(key);
                empty = set.isEmpty();
            } else {
                if (key.equals(single)) {
                    single = null;
                }
                empty = single == null;
            }
            if (empty) {
                retired = true;
                index.remove(ownerId, this);
            }
        }

        synchronized String[] snapshot() {
            HashSet<String> set = many;
            if (set != null) {
                return set.toArray(new String[0]);
            }
            return single == null ? new String[0] : new String[] {single};
        }
    }
}
