package dev.locking.core;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The {@code execute} calls of one service on one provider that hold keys or wait for them, so that
 * threads of this JVM hand a key to each other in arrival order instead of all asking the backend.
 *
 * <p>Why: without it, every release wakes every waiter of this JVM through the backend's notification
 * (a Redis message, a Hazelcast event, a ZooKeeper watch), they all ask the backend, one wins and the
 * rest ask again later; and the thread that just released, running its next {@code execute} at once,
 * usually wins before any of them has woken. That costs a round trip per loser and makes the wait of a
 * given thread unbounded in practice (measured: a p99 wait forty times the median with eight threads on
 * one key). Here a release by a call of this JVM unparks only the longest-waiting call of the key, which
 * then asks the backend once; a new call that finds the key held or waited for here joins the queue
 * instead of asking. The backend still decides who holds a key: the queue only decides who of this JVM
 * asks when, and a call whose holder is elsewhere (another JVM, or a plain {@code acquire}) still waits
 * on the provider's notification.
 *
 * <h2>Rules</h2>
 * <ul>
 *   <li>A key that calls of this JVM wait for has a line: the calls waiting for it, in arrival order (a
 *       global sequence number, so the lines of a multi-key call never disagree about who came first),
 *       and how many calls here hold it. A call that takes keys nobody here waits for records nothing
 *       (that kept two map updates and two monitors per key off every uncontended {@code execute}), so a
 *       line created while such a call holds its key does not count it: the first waiter then finds the
 *       key held by the backend's answer, waits on the provider's notification as for a holder elsewhere,
 *       and is signalled here too when that holder releases. Calls that take a key while it has a line
 *       are counted.</li>
 *   <li>A waiting call may ask the backend when it is first in the line of each of its keys and no
 *       call here holds any of them ({@link #mayTry}). The earliest waiter of all is first in all its
 *       lines, so some waiter can always go on: the queue adds no deadlock among waiters.</li>
 *   <li>Whoever changes who is first, or frees a key here, unparks the new first waiter of that line
 *       ({@link #took}, {@link #leave}, {@link #released}); a waiter that finds it may not try yet
 *       parks again.</li>
 * </ul>
 * {@link WaitLoop}, its only user, also bounds every park (so a lost unpark costs a slice, not a hang)
 * and lets a waiter that was not given its turn for a whole slice ask the backend anyway; calls made
 * while their thread already holds keys of an {@code execute} never queue (they would wait behind
 * waiters that may be waiting for those very keys).
 *
 * <h2>Concurrency</h2>
 * Lines live in a {@link ConcurrentHashMap} and are only read or changed under their own monitor
 * ({@code @GuardedBy("this")} on a line's fields); a
 * line that becomes empty is marked removed and taken out of the map under that monitor, and a thread
 * that finds a removed line fetches (or creates) the current one. No thread holds two line monitors at
 * once. Lines exist only while a key is waited for here (or held by a call counted in it), so the map stays
 * as small as the number of such keys.
 */
final class LocalQueue {

    /** One {@code execute} call waiting for its keys. */
    static final class Waiter {
        final Thread thread = Thread.currentThread();
        final long arrival;
        final List<String> keys;
        /**
         * Set by whoever may have made this waiter's turn come, before unparking it. Parking on a flag,
         * not on the bare permit: a provider call of the waiter (a lock inside lp_memory, a future's
         * get) may park and swallow the permit, and the wake-up would be lost.
         */
        volatile boolean signalled;

        Waiter(long arrival, List<String> keys) {
            this.arrival = arrival;
            this.keys = keys;
        }

        @Override
        public String toString() {
            return "Waiter#" + arrival + keys;
        }
    }

    /** The state of one key; guarded by its own monitor. */
    private static final class Line {
        @GuardedBy("this")
        int holders;
        /** Ascending {@link Waiter#arrival}. */
        @GuardedBy("this")
        final ArrayList<Waiter> waiters = new ArrayList<>(4);
        @GuardedBy("this")
        boolean removed;

        @GuardedBy("this")
        @Nullable Waiter first() {
            return waiters.isEmpty() ? null : waiters.get(0);
        }

        @GuardedBy("this")
        void insert(Waiter w) {
            int i = waiters.size();
            while (i > 0 && waiters.get(i - 1).arrival > w.arrival) {
                i--;
            }
            waiters.add(i, w);
        }

        @GuardedBy("this")
        boolean empty() {
            return holders == 0 && waiters.isEmpty();
        }

        /** Unparks the first waiter if nothing of this JVM holds the key. */
        @GuardedBy("this")
        void signalFirst() {
            Waiter first = first();
            if (first != null && holders == 0) {
                first.signalled = true;
                LockSupport.unpark(first.thread);
            }
        }

        /**
         * Marks an empty line removed, so that threads that still find it in the map fetch the current one;
         * the caller then takes it out of the map, still under this monitor.
         */
        @GuardedBy("this")
        boolean markRemovedIfEmpty() {
            if (empty()) {
                removed = true;
                return true;
            }
            return false;
        }
    }

    private final ConcurrentHashMap<String, Line> lines = new ConcurrentHashMap<>();
    private final AtomicLong arrivals = new AtomicLong();

    /** Whether any of the keys is held or waited for by a call here, so a new call should queue. */
    boolean busy(List<String> keys) {
        for (String key : keys) {
            Line line = lines.get(key);
            if (line != null) {
                synchronized (line) {
                    if (!line.removed && !line.empty()) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Puts the calling thread's call at the end of the lines of its keys. */
    @SuppressWarnings("GuardedBy") // the lambdas run in change(), under the line's monitor
    Waiter join(List<String> keys) {
        Waiter w = new Waiter(arrivals.incrementAndGet(), keys);
        for (String key : keys) {
            change(key, line -> line.insert(w));
        }
        return w;
    }

    /**
     * Whether the waiter is first in each of its lines and no call here holds any of its keys. Clears the
     * waiter's signal first, so a change after this check is seen by {@link #park}.
     */
    boolean mayTry(Waiter w) {
        w.signalled = false;
        for (String key : w.keys) {
            Line line = lines.get(key);
            if (line == null) {
                continue; // cannot happen while w is in it; harmless if it did
            }
            synchronized (line) {
                if (!line.removed && (line.holders > 0 || line.first() != w)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Parks the waiter's thread until it is signalled, interrupted or the time is up; returns at once if
     * it was signalled since its last {@link #mayTry}.
     */
    static void park(Waiter w, long nanos) {
        long deadline = System.nanoTime() + nanos;
        while (!w.signalled && !Thread.currentThread().isInterrupted()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return;
            }
            LockSupport.parkNanos(w, left);
        }
    }

    /** Whether a call here holds the key. */
    boolean heldHere(String key) {
        Line line = lines.get(key);
        if (line == null) {
            return false;
        }
        synchronized (line) {
            return !line.removed && line.holders > 0;
        }
    }

    /**
     * Records that a call took its keys: it holds them now and, if it waited, leaves their lines in the
     * same step (so no one sees the keys free and unwaited in between). Keys without a line are not
     * recorded (see the class comment).
     *
     * @return the keys on which the call was counted as holder; only these are passed to {@link #released}
     *     when it ends
     */
    @SuppressWarnings("GuardedBy") // the lambdas run in change(), under the line's monitor
    List<String> took(@Nullable Waiter w, List<String> keys) {
        if (w != null) {
            for (String key : keys) {
                change(key, line -> {
                    line.waiters.remove(w);
                    line.holders++;
                });
            }
            return keys;
        }
        List<String> counted = List.of();
        for (String key : keys) {
            Line line = lines.get(key);
            if (line != null) {
                synchronized (line) {
                    if (!line.removed) { // a removed line is empty: a new one would count from zero anyway
                        line.holders++;
                        counted = counted.isEmpty() ? new ArrayList<>(keys.size()) : counted;
                        counted.add(key);
                    }
                }
            }
        }
        return counted;
    }

    /** Takes a waiter that gives up (timeout, interrupt, failure) out of its lines. */
    @SuppressWarnings("GuardedBy") // the lambdas run in change(), under the line's monitor
    void leave(Waiter w) {
        for (String key : w.keys) {
            change(key, line -> {
                boolean wasFirst = line.first() == w;
                line.waiters.remove(w);
                if (wasFirst) {
                    line.signalFirst();
                }
            });
        }
    }

    /**
     * Records that a call released keys on which it was counted as holder (what {@link #took} returned),
     * after the provider released them, and wakes the next waiter of each. A call that was not counted on a
     * key must not pass it: by the time its release reaches the queue, the waiter the provider woke may
     * already hold the key and be counted, and taking its count away would wake the next waiter out of turn.
     * Waiters behind an uncounted holder wait on the provider's notification instead.
     */
    void released(List<String> keys) {
        for (String key : keys) {
            Line line = lines.get(key);
            if (line == null) {
                continue;
            }
            synchronized (line) {
                if (line.removed) {
                    continue;
                }
                line.holders = Math.max(0, line.holders - 1);
                line.signalFirst();
                if (line.markRemovedIfEmpty()) {
                    lines.remove(key, line);
                }
            }
        }
    }

    /** How many calls wait in the key's line; for tests. */
    int waiting(String key) {
        Line line = lines.get(key);
        if (line == null) {
            return 0;
        }
        synchronized (line) {
            return line.removed ? 0 : line.waiters.size();
        }
    }

    /** How many keys have a line; for tests. */
    int lines() {
        return lines.size();
    }

    private void change(String key, Consumer<Line> change) {
        while (true) {
            Line line = lines.computeIfAbsent(key, k -> new Line());
            synchronized (line) {
                if (line.removed) {
                    continue; // emptied and taken out meanwhile: use the current one
                }
                change.accept(line);
                if (line.markRemovedIfEmpty()) {
                    lines.remove(key, line);
                }
                return;
            }
        }
    }

}
