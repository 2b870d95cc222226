package dev.locking.memory;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.LockingClock;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The backend queues of {@code lp_memory}'s hand-off by owner: for each key, the owners waiting for it in
 * the order they came ({@code acquireOrQueue}), each with the lease it asked for and the moment its entry
 * lapses unless it calls again; and, for each owner that sleeps in {@code awaitGrant}, its thread and the
 * grant handed to it.
 *
 * <p>The {@link LockTable} uses it in the step that frees a key: when the key's queue holds a live entry,
 * the table writes the record for that entry's owner (new token, its lease) before the stripe is unlocked,
 * and {@link #deliver}s the grant to the owner's sleeping thread. So a key with live entries is never free,
 * and nobody can take it past them.
 *
 * <h2>Concurrency</h2>
 * A key's queue is read and written only with that key's stripe held (see {@link LockTable}; @GuardedBy
 * cannot name "the stripe of the key"). An owner's {@link Slot} is registered, filled and checked with the
 * stripe of its key held, so a grant cannot fall between the sleeper's look and its sleep; the sleeper
 * reads the slot's {@code grant} (volatile) without the stripe. The maps are concurrent so that
 * {@link #none} (the hot path's one read) and {@link #wakeEveryone} may read them without a stripe.
 */
final class GrantQueues {

    /** One owner in a key's queue. Its {@code lapsesAt} is renewed in place under the key's stripe. */
    static final class Entry {
        final String owner;
        /**
         * The lease a grant gets: min(lease, stay), so a key handed to an owner that died is blocked for at
         * most its stay; the core renews a granted key early.
         */
        final long leaseNanos;
        /** Monotonic time after which the entry is skipped; written under the key's stripe. */
        long lapsesAt;

        Entry(String owner, long leaseNanos, long lapsesAt) {
            this.owner = owner;
            this.leaseNanos = leaseNanos;
            this.lapsesAt = lapsesAt;
        }
    }

    /** The thread of an owner sleeping in {@code awaitGrant}, and the grant once it came. */
    static final class Slot {
        final Thread thread = Thread.currentThread();
        volatile AcquireResult.@Nullable Acquired grant;

        /** Sleeps until the grant, the deadline or the close; null without a grant. On the slot's thread. */
        AcquireResult.@Nullable Acquired await(LockingClock time, long deadline, BooleanSupplier closed)
                throws InterruptedException {
            while (true) {
                AcquireResult.Acquired given = grant;
                if (given != null) {
                    return given;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = deadline - time.nanoTime();
                if (closed.getAsBoolean() || left <= 0) {
                    return null;
                }
                LockSupport.parkNanos(this, left);
            }
        }
    }

    private final ConcurrentHashMap<String, ArrayDeque<Entry>> byKey = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Slot> sleepers = new ConcurrentHashMap<>();

    /** Whether no key has a queue: then nothing else needs to be asked. */
    boolean none() {
        return byKey.isEmpty();
    }

    /**
     * Adds the owner at the end of the key's queue, or renews its entry where it stands, until now + stay.
     * Only with the key's stripe held.
     */
    void queue(String key, String owner, long leaseNanos, long stayNanos, long now) {
        ArrayDeque<Entry> queue = byKey.computeIfAbsent(key, k -> new ArrayDeque<>());
        long lapsesAt = now + stayNanos;
        for (Entry entry : queue) {
            if (entry.owner.equals(owner)) {
                entry.lapsesAt = lapsesAt;
                return;
            }
        }
        queue.addLast(new Entry(owner, Math.min(leaseNanos, stayNanos), lapsesAt));
    }

    /**
     * Whether a free key may be taken by this owner now: no live entry of another owner stands before the
     * owner's own (lapsed entries at the head are dropped on the way). Only with the key's stripe held.
     */
    boolean mayTake(String key, @Nullable String owner, long now) {
        ArrayDeque<Entry> queue = byKey.get(key);
        if (queue == null) {
            return true;
        }
        dropLapsedHead(key, queue, now);
        Entry head = queue.peekFirst();
        return head == null || head.owner.equals(owner); // an anonymous caller (null) is never queued
    }

    /**
     * Removes and returns the first live entry of the key's queue (the next owner of a freed key), dropping
     * lapsed ones; null when none is live. Only with the key's stripe held.
     */
    @Nullable Entry pollLive(String key, long now) {
        ArrayDeque<Entry> queue = byKey.get(key);
        if (queue == null) {
            return null;
        }
        dropLapsedHead(key, queue, now);
        Entry head = queue.pollFirst();
        if (queue.isEmpty()) {
            byKey.remove(key);
        }
        return head;
    }

    /** Takes the owner out of the key's queue. Only with the key's stripe held. */
    void remove(String key, String owner) {
        ArrayDeque<Entry> queue = byKey.get(key);
        if (queue == null) {
            return;
        }
        for (Iterator<Entry> it = queue.iterator(); it.hasNext();) {
            if (it.next().owner.equals(owner)) {
                it.remove();
                break;
            }
        }
        if (queue.isEmpty()) {
            byKey.remove(key);
        }
    }

    private void dropLapsedHead(String key, ArrayDeque<Entry> queue, long now) {
        while (!queue.isEmpty() && now - queue.peekFirst().lapsesAt >= 0) {
            queue.pollFirst();
        }
        if (queue.isEmpty()) {
            byKey.remove(key);
        }
    }

    /** Registers the calling thread as the owner's sleeper. With the stripe of the owner's key held. */
    Slot sleep(String owner) {
        Slot slot = new Slot();
        sleepers.put(owner, slot);
        return slot;
    }

    /** The owner no longer sleeps. */
    void awake(String owner, Slot slot) {
        sleepers.remove(owner, slot);
    }

    /** Gives a grant to the owner's sleeping thread, if it sleeps. With the stripe of the key held. */
    void deliver(String owner, AcquireResult.Acquired grant) {
        Slot slot = sleepers.get(owner);
        if (slot != null) {
            slot.grant = grant;
            LockSupport.unpark(slot.thread);
        }
    }

    /** Wakes every sleeper (the table closes) and forgets every queue. */
    void clear() {
        byKey.clear();
        wakeEveryone();
    }

    /** Wakes every sleeper without a grant. */
    void wakeEveryone() {
        for (Slot slot : sleepers.values()) {
            LockSupport.unpark(slot.thread);
        }
    }

    /** The number of owners queued for a key now; for tests (without the stripe, a racy but harmless read). */
    int queued(String key) {
        ArrayDeque<Entry> queue = byKey.get(key);
        return queue == null ? 0 : queue.size();
    }
}
