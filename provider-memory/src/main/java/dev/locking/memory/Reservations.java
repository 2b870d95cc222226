package dev.locking.memory;

import dev.locking.spi.support.KeyWaiters;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The hand-off of {@code lp_memory}: a key freed while threads wait for it is kept, for a short grace, for
 * the thread of the longest waiter, which the release wakes. So a thread that releases the key and takes it
 * again at once cannot starve that waiter, whichever service (of this JVM) either of them belongs to. This
 * is a rule of the in-memory backend, not waiting policy: the core's local queue orders the calls of one
 * service only, and every service of the JVM shares the table.
 *
 * <p>The rules, each with the key's stripe held:
 * <ul>
 *   <li>A key freed while someone waits for it is reserved for the thread that {@link KeyWaiters#wakeNext}
 *       woke, until now + grace ({@link #handOff}).</li>
 *   <li>An attempt by another thread on a reserved free key is a conflict on that key; the reserved
 *       thread takes it normally, which ends the reservation ({@link #heldBackFor}, {@link #taken}).</li>
 *   <li>A reservation that lapsed unused passes to the next waiter (woken by it) the first time anyone
 *       looks at the key (an attempt, a waiter's look, the sweeper); with nobody waiting it ends.</li>
 *   <li>A reserved thread whose multi-key attempt fails, or that leaves {@code awaitRelease} by an
 *       interrupt or a failure, passes its reservations on at once ({@link #passOn}).</li>
 * </ul>
 *
 * <h2>Concurrency</h2>
 * The entry of a key is read and written only with that key's stripe held (see {@link LockTable}; @GuardedBy
 * cannot name "the stripe of the key"). The map is concurrent so that {@link #none} (the hot path's check:
 * one read when nobody has a reservation) and the sweeper's scan may read it without a stripe: an entry for
 * the key under the caller's stripe is always seen, since it was written under that stripe. {@link Reservation}
 * is immutable; the other fields are final.
 */
final class Reservations {

    /** How long a freed key stays reserved for the waiter it was handed to when no one says otherwise. */
    static final Duration DEFAULT_GRACE = Duration.ofMillis(250);

    private final KeyWaiters waiters;
    private final LockingClock time;
    private final long graceNanos;
    private final ConcurrentHashMap<String, Reservation> byKey = new ConcurrentHashMap<>();

    Reservations(KeyWaiters waiters, LockingClock time, long graceNanos) {
        this.waiters = waiters;
        this.time = time;
        this.graceNanos = graceNanos;
    }

    /** Whether no key is reserved: then no other method needs to be asked. */
    boolean none() {
        return byKey.isEmpty();
    }

    /**
     * Hands a free key to its longest waiter that is not woken yet: wakes it and reserves the key for its
     * thread. With no such waiter, the key is not reserved.
     */
    void handOff(String key) {
        @Nullable Thread next = waiters.wakeNext(key);
        if (next == null) {
            byKey.remove(key);
        } else {
            byKey.put(key, new Reservation(next, time.nanoTime() + graceNanos));
        }
    }

    /**
     * How long a free key is held back from the calling thread: 0 if it may take it now, else the
     * nanoseconds until the reservation for another thread lapses (at least 1). A lapsed reservation is
     * handed on first.
     */
    long heldBackFor(String key) {
        Reservation reservation = byKey.get(key);
        if (reservation == null || reservation.thread == Thread.currentThread()) {
            return 0;
        }
        if (reservation.until - time.nanoTime() <= 0) {
            handOff(key);
            reservation = byKey.get(key);
            if (reservation == null || reservation.thread == Thread.currentThread()) {
                return 0;
            }
        }
        return Math.max(1, reservation.until - time.nanoTime());
    }

    /** The key was taken (by its reserved thread, or nobody held it back): its reservation, if any, ends. */
    void taken(String key) {
        byKey.remove(key);
    }

    /** The keys reserved for the calling thread go to their next waiters: it will not take them now. */
    void passOn(List<String> keys) {
        Thread me = Thread.currentThread();
        for (int i = 0, n = keys.size(); i < n; i++) {
            String key = keys.get(i);
            Reservation reservation = byKey.get(key);
            if (reservation != null && reservation.thread == me) {
                handOff(key);
            }
        }
    }

    /** Hands on the key's reservation if it lapsed (the sweeper's part: a reservation nobody used). */
    void endIfLapsed(String key) {
        Reservation reservation = byKey.get(key);
        if (reservation != null && reservation.until - time.nanoTime() <= 0) {
            handOff(key);
        }
    }

    /** The reserved keys now (for the sweeper's scan: a weakly consistent view). */
    Set<String> keys() {
        return byKey.keySet();
    }

    /** Ends every reservation (the table closes). */
    void clear() {
        byKey.clear();
    }

    /** A free key kept for a thread until a monotonic time. Immutable. */
    private record Reservation(Thread thread, long until) {}
}
