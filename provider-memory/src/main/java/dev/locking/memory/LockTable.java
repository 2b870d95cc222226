package dev.locking.memory;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.KeyWaiters;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * The locks of one {@code lp_memory} table: who holds each key, with which fencing token, until when; the
 * atomic operations on them; the hand-off of a freed key to the first live owner of its queue
 * ({@link GrantQueues}), or else the release notification to the table's {@link KeyWaiters}, with the
 * key kept for its longest waiter ({@link Reservations}).
 *
 * <h2>Concurrency</h2>
 * <b>State.</b> {@code records}: key to an immutable {@link LockRecord}, present while the key is held and
 * until an expired record is noticed (on access, by a waiter's look, or by the sweeper). {@code owners}:
 * the {@link OwnerIndex}. {@code lastToken}: the one fencing-token counter, so a new take of any key gets
 * a larger token than every earlier take; re-entry keeps the token. {@code reservations}: the free keys
 * kept for a woken waiter's thread; a key has a reservation only while it has no live record. {@code grants}:
 * each key's queue of owners; every step that frees a key hands it to the first live one, so a key with a
 * live entry is free only while it is reserved for a waiter, and then nobody but the head may take it.
 *
 * <p><b>Locks.</b> A key's record, owner-index entry, reservation and queue are read and written only
 * with the key's stripe ({@link Stripes}) held. (The maps are concurrent so that {@link #size}, the
 * emptiness check of the reservations and the sweeper's scans may read them without a stripe; @GuardedBy
 * cannot name "the stripe of the key", so this is stated here.) An operation on several keys locks their
 * distinct stripes in ascending order, reads and checks everything, then writes everything, then unlocks:
 * nobody observes a partial multi-key change. {@link #inspect} takes the stripe too, so it is linearizable
 * with multi-key writes. {@code releaseAll(null)} and {@link #close}
 * take every stripe. {@code releaseAll(owner)} snapshots the owner's keys, locks their stripes and reads
 * the keys again under them; if the owner took a key in a stripe it does not hold, it retries holding
 * every stripe. {@code closed} is volatile and checked under the stripes, so no operation writes after
 * {@link #close} cleared the table.
 *
 * <p><b>Release notification and hand-off.</b> Every path that frees a key (release, releaseAll, leaveQueue,
 * expiry noticed on access or by the sweeper) hands it, with its stripe held, to the first live owner of its
 * queue, else to its longest waiter ({@link Reservations#handOff}: woken, the free key reserved for its thread
 * for a short grace). Waking one waiter per freed key is enough: only one can take it. A free key reserved
 * for another thread is a conflict for an attempt and blocked (until the grace ends) for a waiter's look. A
 * failed multi-key attempt, and a waiter that leaves by an interrupt or a failure, pass their reservations
 * (and the wake-ups) on; an unused one passes on when it lapses. Close wakes everyone. A waiter registers
 * before it looks at the table under the stripe, so a release cannot fall between its look and its sleep.
 * An uncontended call pays one emptiness check each for the reservations and the queues.
 */
final class LockTable {

    /** Returned by {@link #blockedFor} when no key is held. */
    static final long NOT_BLOCKED = -1;
    /** Returned by {@link #blockedFor} when the held keys have no lease. */
    static final long FOREVER = Long.MAX_VALUE;

    private final String id;
    private final LockingClock time;
    private final KeyWaiters waiters;
    private final Stripes stripes = new Stripes();
    private final ConcurrentHashMap<String, LockRecord> records = new ConcurrentHashMap<>();
    private final OwnerIndex owners = new OwnerIndex();
    private final Reservations reservations;
    private final GrantQueues grants = new GrantQueues();
    private final AtomicLong lastToken = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param graceNanos how long a freed key stays reserved for the waiter it was handed to, positive
     */
    LockTable(String id, LockingClock time, KeyWaiters waiters, long graceNanos) {
        this.id = id;
        this.time = time;
        this.waiters = waiters;
        this.reservations = new Reservations(waiters, time, graceNanos);
    }

    // ---------------------------------------------------------------------------------------------
    // tryAcquire

    /**
     * One all-or-nothing attempt.
     *
     * @param leaseNanos the lease, ignored when {@code expiresAt} is null
     * @param expiresAt  when the lease lapses, or null for a lock that never expires
     */
    AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, long leaseNanos,
            @Nullable Instant expiresAt) {
        if (keys.size() == 1) {
            return tryAcquireOne(keys.get(0), ownerId, leaseNanos, expiresAt);
        }
        return tryAcquireMany(keys, ownerId, leaseNanos, expiresAt);
    }

    private AcquireResult tryAcquireOne(String key, @Nullable String ownerId, long leaseNanos,
            @Nullable Instant expiresAt) {
        ReentrantLock stripe = stripes.of(key);
        stripe.lock();
        try {
            checkOpen();
            // The clock is read only when a lease is involved.
            LockRecord held = liveRecord(key);
            if (held != null) {
                if (ownerId == null || !ownerId.equals(held.owner)) {
                    return new AcquireResult.Conflict(key);
                }
                if (expiresAt != null) {
                    held = renew(key, held, time.nanoTime() + leaseNanos, expiresAt);
                }
                return new AcquireResult.Acquired(Map.of(key, held.token), held.expiresAt);
            }
            if (heldBack(key, ownerId)) {
                return new AcquireResult.Conflict(key);
            }
            long deadline = expiresAt == null ? 0 : time.nanoTime() + leaseNanos;
            LockRecord taken = take(key, ownerId, deadline, expiresAt);
            return new AcquireResult.Acquired(Map.of(key, taken.token), taken.expiresAt);
        } finally {
            stripe.unlock();
        }
    }

    private AcquireResult tryAcquireMany(List<String> keys, @Nullable String ownerId, long leaseNanos,
            @Nullable Instant expiresAt) {
        int[] locked = lockOpen(keys);
        try {
            int n = keys.size();
            for (int i = 0; i < n; i++) {
                String key = keys.get(i);
                LockRecord held = liveRecord(key);
                boolean blocked = held != null
                        ? ownerId == null || !ownerId.equals(held.owner)
                        : heldBack(key, ownerId);
                if (blocked) {
                    // The caller may have been handed one of its free keys; it will not take it now.
                    if (!reservations.none()) {
                        reservations.passOn(keys);
                    }
                    return new AcquireResult.Conflict(key);
                }
            }
            long deadline = expiresAt == null ? 0 : time.nanoTime() + leaseNanos;
            Map<String, Long> tokens = new HashMap<>();
            Instant earliest = null;
            for (int i = 0; i < n; i++) {
                String key = keys.get(i);
                LockRecord rec = records.get(key);
                if (rec == null) {
                    rec = take(key, ownerId, deadline, expiresAt);
                } else if (expiresAt != null) {
                    rec = renew(key, rec, deadline, expiresAt);
                }
                tokens.put(key, rec.token);
                if (rec.expiresAt != null && (earliest == null || rec.expiresAt.isBefore(earliest))) {
                    earliest = rec.expiresAt;
                }
            }
            // The lease lapses when its first key does; it never lapses only if no key ever does.
            return new AcquireResult.Acquired(tokens, earliest);
        } finally {
            stripes.unlock(locked);
        }
    }

    /**
     * Whether a free key is held back from this owner (on this thread): kept for another waiter's thread, or a
     * live queue entry of another owner stands before this owner's (no barging past the queue).
     */
    private boolean heldBack(String key, @Nullable String ownerId) {
        return (!reservations.none() && reservations.heldBackFor(key) > 0)
                || (!grants.none() && !grants.mayTake(key, ownerId, time.nanoTime()));
    }

    /** Takes a free key: a new record with a new token; a reservation of the key ends. */
    private LockRecord take(String key, @Nullable String ownerId, long deadline, @Nullable Instant expiresAt) {
        LockRecord rec = new LockRecord(ownerId, lastToken.incrementAndGet(), deadline, expiresAt);
        records.put(key, rec);
        if (ownerId != null) {
            owners.add(ownerId, key);
        }
        if (!reservations.none()) {
            reservations.taken(key);
        }
        return rec;
    }

    /** Gives a held key a new lease; owner and token stay. */
    private LockRecord renew(String key, LockRecord held, long deadline, Instant expiresAt) {
        LockRecord rec = new LockRecord(held.owner, held.token, deadline, expiresAt);
        records.put(key, rec);
        return rec;
    }

    // ---------------------------------------------------------------------------------------------
    // The queue of owners per key (GrantQueues)

    /** Takes a key free for this owner (nobody live queued before it), else queues the owner until then. */
    AcquireResult acquireOrQueue(String key, String owner, long leaseNanos, Instant expiresAt, long stayNanos) {
        ReentrantLock stripe = stripes.of(key);
        stripe.lock();
        try {
            checkOpen();
            LockRecord held = liveRecord(key);
            long now = time.nanoTime();
            if (held != null && owner.equals(held.owner)) { // handed to it since its last call: as it is
                return new AcquireResult.Acquired(Map.of(key, held.token), held.expiresAt);
            }
            if (held == null && !heldBack(key, owner)) {
                grants.remove(key, owner);
                LockRecord taken = take(key, owner, now + leaseNanos, expiresAt);
                return new AcquireResult.Acquired(Map.of(key, taken.token), taken.expiresAt);
            }
            grants.queue(key, owner, leaseNanos, stayNanos, now);
            return new AcquireResult.Conflict(key);
        } finally {
            stripe.unlock();
        }
    }

    /** The grant (or the key the owner holds), or null when it may take the key, after nanos, or on close. */
    AcquireResult.@Nullable Acquired awaitGrant(String key, String owner, long nanos) throws InterruptedException {
        long deadline = time.nanoTime() + nanos;
        GrantQueues.Slot slot;
        ReentrantLock stripe = stripes.of(key);
        stripe.lock();
        try {
            checkOpen();
            LockRecord held = liveRecord(key);
            if (held != null && owner.equals(held.owner)) {
                return new AcquireResult.Acquired(Map.of(key, held.token), held.expiresAt);
            }
            if (held == null && !heldBack(key, owner)) {
                return null; // free for it: its next call takes it
            }
            slot = grants.sleep(owner); // under the stripe: no grant falls between the look and the sleep
        } finally {
            stripe.unlock();
        }
        try {
            return slot.await(time, deadline, () -> closed);
        } finally {
            grants.awake(owner, slot);
        }
    }

    /** The owner leaves the key's queue; a key it holds is freed (and handed on). Idempotent. */
    void leaveQueue(String key, String owner) {
        ReentrantLock stripe = stripes.of(key);
        stripe.lock();
        try {
            if (closed) {
                return;
            }
            grants.remove(key, owner);
            LockRecord held = liveRecord(key);
            if (held != null && owner.equals(held.owner)) { // handed to it, or taken by a call whose reply was lost
                free(key, held);
            }
        } finally {
            stripe.unlock();
        }
    }

    /** The number of owners queued for the key; for tests (read without the stripe: a racy view). */
    int queuedFor(String key) {
        return grants.queued(key);
    }

    // ---------------------------------------------------------------------------------------------
    // extend, release, releaseAll, inspect

    /** Renews every key if the owner holds them all; else changes nothing. */
    boolean extend(List<String> keys, String ownerId, long leaseNanos, Instant expiresAt) {
        int[] locked = lockOpen(keys);
        try {
            int n = keys.size();
            for (int i = 0; i < n; i++) {
                LockRecord held = liveRecord(keys.get(i));
                if (held == null || !ownerId.equals(held.owner)) {
                    return false;
                }
            }
            long deadline = time.nanoTime() + leaseNanos;
            for (int i = 0; i < n; i++) {
                String key = keys.get(i);
                LockRecord held = records.get(key);
                if (held != null) {
                    renew(key, held, deadline, expiresAt);
                }
            }
            return true;
        } finally {
            stripes.unlock(locked);
        }
    }

    /** Releases each key held anonymously or by the owner; true only if every key was released. */
    boolean release(List<String> keys, @Nullable String ownerId) {
        if (keys.size() == 1) {
            String key = keys.get(0);
            ReentrantLock stripe = stripes.of(key);
            stripe.lock();
            try {
                checkOpen();
                return releaseLocked(key, ownerId);
            } finally {
                stripe.unlock();
            }
        }
        int[] locked = lockOpen(keys);
        try {
            boolean all = true;
            for (int i = 0, n = keys.size(); i < n; i++) {
                if (!releaseLocked(keys.get(i), ownerId)) {
                    all = false;
                }
            }
            return all;
        } finally {
            stripes.unlock(locked);
        }
    }

    private boolean releaseLocked(String key, @Nullable String ownerId) {
        LockRecord held = liveRecord(key);
        if (held == null) {
            return false;
        }
        if (held.owner != null && !held.owner.equals(ownerId)) {
            return false;
        }
        free(key, held);
        return true;
    }

    /** Releases every key of the owner; its cost grows with that owner's keys only. */
    void releaseAll(String ownerId) {
        boolean everyStripe = false;
        while (true) {
            String[] snapshot = owners.keysOf(ownerId);
            if (snapshot == null) {
                checkOpen();
                return;
            }
            int[] locked = everyStripe ? Stripes.all() : Stripes.of(List.of(snapshot));
            stripes.lock(locked);
            try {
                checkOpen();
                String[] keys = owners.keysOf(ownerId);
                if (keys == null) {
                    return;
                }
                if (!everyStripe && !Stripes.covers(locked, keys)) {
                    // The owner took a key in a stripe we do not hold: take them all this time.
                    everyStripe = true;
                    continue;
                }
                for (String key : keys) {
                    LockRecord held = records.get(key);
                    if (held != null && ownerId.equals(held.owner)) {
                        free(key, held);
                    }
                }
                return;
            } finally {
                stripes.unlock(locked);
            }
        }
    }

    /** Releases every key of the table. */
    void releaseEverything() {
        stripes.lock(Stripes.all());
        try {
            checkOpen();
            // A snapshot: a key freed here may be handed to a queued owner at once, and stays held by it.
            for (Map.Entry<String, LockRecord> entry : List.copyOf(records.entrySet())) {
                free(entry.getKey(), entry.getValue());
            }
        } finally {
            stripes.unlock(Stripes.all());
        }
    }

    /** Who holds the key now, if anyone. */
    Optional<LockInfo> inspect(String key) {
        ReentrantLock stripe = stripes.of(key);
        stripe.lock();
        try {
            checkOpen();
            LockRecord held = liveRecord(key);
            return held == null
                    ? Optional.empty()
                    : Optional.of(new LockInfo(key, held.owner, held.expiresAt, held.token));
        } finally {
            stripe.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // For waiters and the sweeper

    /**
     * Whether the keys block a waiter, and for how long at most: {@link #NOT_BLOCKED} when none is held
     * nor reserved for another thread, else the nanoseconds until the first lease or reservation of those
     * keys lapses, or {@link #FOREVER} when they are all held without a lease. Lapsed records are expired
     * and lapsed reservations handed on on the way (which wakes their waiters, maybe the caller).
     */
    long blockedFor(List<String> keys) {
        int[] locked = lockOpen(keys);
        try {
            long blocked = NOT_BLOCKED;
            for (int i = 0, n = keys.size(); i < n; i++) {
                String key = keys.get(i);
                LockRecord held = liveRecord(key);
                long left;
                if (held != null) {
                    // At least 1 (the lease may lapse between two clock readings), at most Leases.MAX: no clash
                    // with the markers.
                    left = held.expiresAt == null ? FOREVER : Math.max(1, held.deadline - time.nanoTime());
                } else {
                    // A free key blocks while it is reserved for another thread: at most the grace.
                    left = reservations.none() ? 0 : reservations.heldBackFor(key);
                    if (left == 0) {
                        continue;
                    }
                }
                blocked = blocked == NOT_BLOCKED ? left : Math.min(blocked, left);
            }
            return blocked;
        } finally {
            stripes.unlock(locked);
        }
    }

    /**
     * A waiter leaves without trying its keys (interrupted, failed): the keys reserved for its thread go
     * to their next waiters. Does nothing once the table is closed.
     */
    void passOnReservations(List<String> keys) {
        if (reservations.none()) {
            return;
        }
        int[] locked = Stripes.of(keys);
        stripes.lock(locked);
        try {
            if (!closed) {
                reservations.passOn(keys);
            }
        } finally {
            stripes.unlock(locked);
        }
    }

    /**
     * Expires every lapsed record and hands on every lapsed reservation, one stripe at a time; returns at
     * once once the table is closed.
     */
    void sweep() {
        long now = time.nanoTime();
        for (Map.Entry<String, LockRecord> entry : records.entrySet()) {
            if (entry.getValue().isExpired(now)) {
                String key = entry.getKey();
                ReentrantLock stripe = stripes.of(key);
                stripe.lock();
                try {
                    if (closed) {
                        return;
                    }
                    liveRecord(key);
                } finally {
                    stripe.unlock();
                }
            }
        }
        if (reservations.none()) {
            return;
        }
        for (String key : reservations.keys()) {
            ReentrantLock stripe = stripes.of(key);
            stripe.lock();
            try {
                if (closed) {
                    return;
                }
                reservations.endIfLapsed(key);
            } finally {
                stripe.unlock();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Records (with the key's stripe held)

    /** Returns the key's record if it is live; an expired one is freed first. */
    private @Nullable LockRecord liveRecord(String key) {
        LockRecord rec = records.get(key);
        if (rec != null && rec.expiresAt != null && rec.isExpired(time.nanoTime())) {
            free(key, rec);
            return null;
        }
        return rec;
    }

    /**
     * Frees a key and hands it to the first live owner of its queue (new record and token, lease min(lease,
     * stay), its sleeping thread woken) or else to its longest waiter.
     */
    private void free(String key, LockRecord rec) {
        records.remove(key);
        if (rec.owner != null) {
            owners.remove(rec.owner, key);
        }
        if (!grants.none()) {
            GrantQueues.Entry next = grants.pollLive(key, time.nanoTime());
            if (next != null) {
                Instant expiresAt = Leases.expiresAt(time.wallTime(), Duration.ofNanos(next.leaseNanos));
                LockRecord granted = take(key, next.owner, time.nanoTime() + next.leaseNanos, expiresAt);
                grants.deliver(next.owner, new AcquireResult.Acquired(Map.of(key, granted.token), expiresAt));
                return;
            }
        }
        if (waiters.isWaitedFor(key)) {
            reservations.handOff(key);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Life cycle

    /**
     * Marks the table closed and drops every lock.
     *
     * @return false if it was closed already
     */
    boolean close() {
        if (closed) {
            return false;
        }
        stripes.lock(Stripes.all());
        try {
            if (closed) {
                return false;
            }
            closed = true;
            records.clear();
            owners.clear();
            reservations.clear();
            grants.clear();
            return true;
        } finally {
            stripes.unlock(Stripes.all());
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Locks the stripes of the keys and checks that the table is open; the caller unlocks them. */
    private int[] lockOpen(List<String> keys) {
        int[] locked = Stripes.of(keys);
        stripes.lock(locked);
        if (closed) {
            stripes.unlock(locked);
            checkOpen();
        }
        return locked;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("Provider " + id + " is closed");
        }
    }

    /** The number of records (held keys, plus expired ones not yet noticed). */
    int size() {
        return records.size();
    }

    /** The number of owners in the owner index. */
    int ownerCount() {
        return owners.size();
    }

    /** The keys reserved for a waiter now. */
    Set<String> reservedKeys() {
        return reservations.keys();
    }
}
