package dev.locking.core;

import dev.locking.spi.LockingProvider;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A release the {@link LeaseRenewer} keeps trying in the background: of the locks an {@code execute} may
 * have taken although its acquire failed (the request may have reached the backend and only the answer
 * got lost), or of the locks whose release after the job failed. Only {@code execute} locks qualify: their
 * owner id is unique to one call, so releasing them can never free someone else's lock.
 *
 * <p>Concurrency: the renewer's scheduler sets {@link #running} before handing the release to a worker;
 * the worker writes {@link #dueNanos} and {@link #attempts} and then clears {@code running}.
 */
final class BackgroundRelease {
    private static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(2);

    final LockingProvider provider;
    final List<String> keys;
    final String ownerId;
    /** When the lease has lapsed anyway, so trying longer is pointless. */
    final long giveUpNanos;
    /** Keep trying after "nothing to release": the acquire may reach the backend after this release. */
    final boolean untilReleased;
    /** Why it is needed, for the log. */
    final String why;
    volatile long dueNanos;
    volatile boolean running;
    private int attempts;

    BackgroundRelease(LockingProvider provider, List<String> keys, String ownerId, long giveUpNanos,
            boolean untilReleased, String why, long nowNanos) {
        this.provider = provider;
        this.keys = keys;
        this.ownerId = ownerId;
        this.giveUpNanos = giveUpNanos;
        this.untilReleased = untilReleased;
        this.why = why;
        this.dueNanos = nowNanos;
    }

    /** 100 ms, then doubling up to 2 s. */
    long nextBackoff() {
        long backoff = FIRST_BACKOFF_NANOS << Math.min(5, attempts++);
        return Math.min(backoff, MAX_BACKOFF_NANOS);
    }
}
