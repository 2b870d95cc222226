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
 * <p>Concurrency: the job's thread creates it, runs the job and {@linkplain #complete() completes} it.
 * The {@link LeaseRenewer}'s renewal worker writes {@link #dueNanos}, {@link #confirmedNanos} and
 * {@link #failures} while {@link #renewing} is set (one renewal at a time); its scheduler reads them and
 * sets {@code renewing}. Either may {@linkplain #markLost() mark it lost}. The state moves RUNNING → DONE
 * (the job's thread) or RUNNING → LOSING → LOST (the renewer, which interrupts the job's thread in between),
 * once: nothing turns a lost handle back. {@link #complete()} waits out LOSING so that the interrupt it then
 * clears is the one the renewer sent. {@link #isLost()} reads true from LOSING on, so a job woken by that
 * interrupt always sees it lost (the interrupt may reach a job that polls {@code isLost()} a moment after it
 * reads true).
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
    final long periodNanos;
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
     * renewal the backend confirmed in time. The lease runs out one lease after it, at the latest.
     */
    volatile long confirmedNanos;
    /** Set while a renewal is handed to a worker or running there. */
    volatile boolean renewing;
    /** The last renewal handed to a worker (possibly finished), so the scheduler can interrupt a hung one. */
    volatile @Nullable Future<?> renewal;
    /** Renewals that failed in a row; written by the renewal worker only. */
    int failures;
    private volatile long lostAtNanos;

    /**
     * @param confirmedNanos when the acquire that took the keys was sent
     */
    Execution(LockingProvider provider, List<String> allKeys, List<String> takenKeys, String ownerId,
            Duration lease, Map<String, Long> tokens, @Nullable Execution parent, long confirmedNanos) {
        this.provider = provider;
        this.allKeys = allKeys;
        this.takenKeys = takenKeys;
        this.ownerId = ownerId;
        this.lease = lease;
        this.tokens = tokens;
        this.parent = parent;
        this.thread = Thread.currentThread();
        this.leaseNanos = lease.toNanos();
        this.periodNanos = Math.max(1, leaseNanos / 3);
        this.confirmedNanos = confirmedNanos;
        this.dueNanos = confirmedNanos + periodNanos;
    }

    /** When the lease runs out unless a renewal sent before then is confirmed before then. */
    long deadlineNanos() {
        return confirmedNanos + leaseNanos;
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
