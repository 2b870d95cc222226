package dev.locking.core;

import dev.locking.api.LockHandle;
import dev.locking.api.LockLostException;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * One running {@code execute}: the keys its call took, their lease, and the handle the job sees.
 *
 * <p><b>The first lease.</b> A key handed over by a backend's queue (a grant) may carry a short first lease,
 * {@code min(lease, stay)}, so that a waiter that died blocks the key for its stay only. The call says which
 * lease its take may have ({@code firstLease}); the deadline and the first renewal count from it (renewed at
 * a third of it), and from the first confirmed renewal on, from the full lease.
 *
 * <p>Concurrency: the job's thread creates it, runs the job and {@linkplain #complete() completes} it. The
 * {@link LeaseRenewer}'s renewal worker writes {@link #dueNanos}, the confirmed time and lease
 * ({@link #confirmed}) and {@link #failures} while {@link #renewing} is set (one renewal at a time); its
 * scheduler reads them and sets {@code renewing}. Either may {@linkplain #markLost() mark it lost}. The state
 * moves RUNNING → DONE (the job's thread) or RUNNING → LOSING → LOST (the renewer, which interrupts the job's
 * thread in between), once: nothing turns a lost handle back. {@link #complete()} waits out LOSING so that the
 * interrupt it then clears is the one the renewer sent. {@link #isLost()} reads true from LOSING on, so a job
 * woken by that interrupt always sees it lost (the interrupt may reach a job that polls {@code isLost()} a
 * moment after it reads true).
 */
final class Execution implements LockHandle {
    private static final int RUNNING = 0;
    private static final int LOSING = 1;
    private static final int LOST = 2;
    private static final int DONE = 3;

    final LockingProvider provider;
    /** The keys this call took itself (not those it inherited from an enclosing call). */
    final List<String> takenKeys;
    final String ownerId;
    final Duration lease;
    private final long leaseNanos;
    private final List<String> allKeys;
    private final Map<String, Long> tokens;
    private final @Nullable Execution parent;
    private final Thread thread;
    private final AtomicInteger state = new AtomicInteger(RUNNING);

    /** When the next renewal is due. */
    volatile long dueNanos;
    /**
     * When the request that last confirmed the lease was sent: the acquire that took the keys, then each
     * renewal the backend confirmed in time. The lease runs out {@link #confirmedLeaseNanos} after it, at the
     * latest.
     */
    volatile long confirmedNanos;
    /** The lease that request may have given: the first lease, then the full lease. */
    private volatile long confirmedLeaseNanos;
    /** Set while a renewal is handed to a worker or running there. */
    volatile boolean renewing;
    /** The last renewal handed to a worker (possibly finished), so the scheduler can interrupt a hung one. */
    volatile @Nullable Future<?> renewal;
    /** Renewals that failed in a row; written by the renewal worker only. */
    int failures;
    private volatile long lostAtNanos;

    /**
     * @param confirmedNanos when the acquire that took the keys was sent (or the lease may have started)
     * @param firstLease     the lease the take may have given, at most {@code lease}: shorter for a grant
     */
    Execution(LockingProvider provider, List<String> allKeys, List<String> takenKeys, String ownerId,
            Duration lease, Map<String, Long> tokens, @Nullable Execution parent, long confirmedNanos,
            Duration firstLease) {
        this.provider = provider;
        this.allKeys = allKeys;
        this.takenKeys = takenKeys;
        this.ownerId = ownerId;
        this.lease = lease;
        this.tokens = tokens;
        this.parent = parent;
        this.thread = Thread.currentThread();
        this.leaseNanos = lease.toNanos();
        this.confirmedLeaseNanos = Math.min(leaseNanos, firstLease.toNanos());
        this.confirmedNanos = confirmedNanos;
        this.dueNanos = confirmedNanos + periodNanos();
    }

    /** When the lease runs out unless a renewal sent before then is confirmed before then. */
    long deadlineNanos() {
        return confirmedNanos + confirmedLeaseNanos;
    }

    /** A third of the lease last confirmed: how long after a confirmation the next renewal is due. */
    long periodNanos() {
        return Math.max(1, confirmedLeaseNanos / 3);
    }

    /** The lease last confirmed (the first lease until a renewal is confirmed). */
    Duration confirmedLease() {
        return Duration.ofNanos(confirmedLeaseNanos);
    }

    /** A renewal sent at {@code sentNanos} was confirmed: the full lease runs from then. By the renewal worker. */
    void confirmed(long sentNanos) {
        confirmedNanos = sentNanos;
        confirmedLeaseNanos = leaseNanos;
        failures = 0;
        dueNanos = sentNanos + periodNanos();
    }

    /** When the handle turned lost ({@link System#nanoTime()}), or 0; for tests. */
    long lostAtNanos() {
        return lostAtNanos;
    }

    @Override
    public String providerId() {
        return provider.id();
    }

    @Override
    public List<String> keys() {
        return allKeys;
    }

    @Override
    public long fencingToken(String key) {
        if (!allKeys.contains(key)) {
            throw new IllegalArgumentException("key \"" + key + "\" is not locked by this call; its keys are "
                    + allKeys);
        }
        return inheritedToken(key);
    }

    /** The token of a key this call or an enclosing call of the same provider took. */
    long inheritedToken(String key) {
        for (Execution e = this; e != null; e = e.parent) {
            Long token = e.tokens.get(key);
            if (token != null) {
                return token;
            }
        }
        throw new IllegalStateException("no enclosing call holds key \"" + key + "\"");
    }

    @Override
    public boolean isLost() {
        int s = state.get();
        if (s == LOSING || s == LOST) {
            return true;
        }
        Execution p = parent;
        return p != null && p.isLost();
    }

    @Override
    public void throwIfLost() {
        if (isLost()) {
            throw new LockLostException(lostMessage());
        }
    }

    String lostMessage() {
        return "The lease on " + allKeys + " (provider " + provider.id() + ") was lost while the job ran";
    }

    /**
     * Called by the renewer when the lock is gone or its lease ran out: turns the handle lost and interrupts the job's thread,
     * unless the job already completed.
     */
    boolean markLost() {
        if (!state.compareAndSet(RUNNING, LOSING)) {
            return false;
        }
        lostAtNanos = System.nanoTime();
        thread.interrupt();
        state.set(LOST);
        return true;
    }

    /**
     * Called by the job's thread when the job returned or threw.
     *
     * @return true if the lease held to the end; false if it was lost, in which case the interrupt the
     *     renewer sent has been cleared
     */
    boolean complete() {
        if (state.compareAndSet(RUNNING, DONE)) {
            return true;
        }
        while (state.get() == LOSING) {
            Thread.onSpinWait();
        }
        Thread.interrupted();
        return false;
    }
}
