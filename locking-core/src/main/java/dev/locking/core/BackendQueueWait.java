package dev.locking.core;

import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a single-key {@code execute} waits on a provider that {@linkplain LockingProvider#handsOff() hands a
 * released key to its longest waiter}: in the backend's queue of that key, which orders the waiters of
 * every JVM.
 *
 * <ol>
 *   <li>{@link LockingProvider#acquireOrQueue} takes the key, or queues the call's owner for
 *       {@code stay} = 2 wait slices, or a third of the lease when that is longer ({@link #stayFor}).</li>
 *   <li>While queued, {@link LockingProvider#awaitGrant} waits for the grant, a slice at most (a quarter of
 *       the lease when that is shorter, less near the deadline). A grant ends the wait: the call holds the
 *       key.</li>
 *   <li>With no grant, {@code acquireOrQueue} again: that refreshes the queue entry, and answers Acquired when
 *       the grant came but its message was lost.</li>
 *   <li>A call that gives up (timeout, interrupt, failure) leaves the queue ({@link LockingProvider#leaveQueue},
 *       shielded from the interrupt), which also releases a grant that came meanwhile. If that fails, the
 *       key is released in the background, as for an acquire that failed without an answer.</li>
 * </ol>
 *
 * <p><b>The lease of a grant.</b> It is {@code min(lease, stay)}, so that a waiter that died blocks the key
 * for its stay only; the call's {@link Execution} counts that first lease and renews early, at a third of it,
 * to the full lease. The backend starts it when the release runs, a moment this JVM cannot read. The release
 * came after the owner's last {@code acquireOrQueue} that answered Conflict, so the lease is counted from when
 * that call was sent: early, never late; so those calls come at least every quarter of a lease. A call that found the key free at its first {@code acquireOrQueue}
 * took it with the full lease.
 *
 * <p>Concurrency: stateless apart from final, immutable fields; the state of one call lives in the local
 * variables of the thread that runs {@link #take}.
 */
final class BackendQueueWait {
    /** Under the service's name: these are the messages of its {@code execute}. */
    private static final Logger log = LoggerFactory.getLogger(DefaultLockingService.class);

    private final LockingProvider provider;
    private final LockingClock clock;
    private final long waitSliceNanos;
    /** The shortest stay in the queue: two wait slices, so that one late refresh does not lapse an entry. */
    private final Duration minStay;
    /** Releases, in the background, a key that a call which gave up may still hold. */
    private final LeaseRenewer cleanup;

    BackendQueueWait(LockingProvider provider, LockingClock clock, long waitSliceNanos, LeaseRenewer cleanup) {
        this.provider = provider;
        this.clock = clock;
        this.waitSliceNanos = waitSliceNanos;
        this.minStay = Duration.ofNanos(waitSliceNanos > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : 2 * waitSliceNanos);
        this.cleanup = cleanup;
    }

    /**
     * How long a queue entry lasts without a refresh, and so the first lease of a grant: two slices, or a
     * third of the lease when that is longer. A waiter that died blocks the key for this long at most (a
     * holder that died blocks it for a whole lease); a granted call has about this long, less one refresh
     * interval, to get its first renewal confirmed, so a stay of a few seconds alone would turn a stall of a
     * few seconds (a busy machine, a collection) into a lost lease.
     */
    Duration stayFor(Duration lease) {
        // In nanoseconds when they fit (every lease under 31 years): Duration.dividedBy goes through BigDecimal,
        // a few hundred bytes of garbage on every execute.
        Duration third = lease.toSeconds() < 1_000_000_000L ? Duration.ofNanos(lease.toNanos() / 3)
                : lease.dividedBy(3);
        return third.compareTo(minStay) > 0 ? third : minStay;
    }

    /**
     * Takes one key for an owner through the backend's queue.
     *
     * @param keys     the one key, as a list
     * @param owner    the owner id of this call (unique to it)
     * @param lease    the lease to ask for
     * @param deadline when the call gives up ({@link LockingClock#nanoTime()})
     * @param timeout  the call's timeout, for the log
     * @return what the call took
     * @throws LockTimeoutException if no grant came in time; the call left the queue
     * @throws LockingException     if interrupted (the flag stays set) or the provider failed; the call left
     *                              the queue (or is released in the background)
     */
    WaitLoop.Taken take(List<String> keys, String owner, Duration lease, long deadline, Duration timeout) {
        String key = keys.get(0);
        boolean took = false;
        long leaseFrom = 0;
        boolean queued = false;
        // A grant's lease counts from the last queue call, up to one wait before the grant: with a short lease,
        // ask again within a quarter of it, so that most of the lease is left to renew in.
        long slice = Math.max(1, Math.min(waitSliceNanos, lease.toNanos() / 4));
        Duration stay = stayFor(lease);
        try {
            while (true) {
                long sent = clock.nanoTime();
                AcquireResult result = ProviderCalls.call(provider, "acquireOrQueue",
                        () -> provider.acquireOrQueue(key, owner, lease, stay));
                if (result instanceof AcquireResult.Acquired acquired) {
                    took = true;
                    // Taken by this call (the full lease), or handed over after a previous call that found the key
                    // busy (maybe the short lease of a grant).
                    return queued ? granted(keys, owner, acquired, leaseFrom, lease, stay)
                            : taken(keys, owner, new WaitLoop.Taken(acquired, sent, lease));
                }
                queued = true;
                leaseFrom = sent;
                long remaining = deadline - clock.nanoTime();
                if (remaining <= 0) {
                    if (log.isDebugEnabled()) {
                        log.debug("execute timed out after {} waiting in the queue of {} on {}", timeout, keys,
                                provider.id());
                    }
                    throw new LockTimeoutException();
                }
                AcquireResult.Acquired grant = awaitGrant(keys, owner, Math.min(remaining, slice));
                if (grant != null) {
                    took = true;
                    return granted(keys, owner, grant, leaseFrom, lease, stay);
                }
            }
        } finally {
            if (!took) {
                leave(keys, owner, lease, stay);
            }
        }
    }

    /** A key handed to the call: its lease may be the grant's, min(lease, stay), from {@code leaseFrom}. */
    private WaitLoop.Taken granted(List<String> keys, String owner, AcquireResult.Acquired grant, long leaseFrom,
            Duration lease, Duration stay) {
        return taken(keys, owner, new WaitLoop.Taken(grant, leaseFrom, lease.compareTo(stay) < 0 ? lease : stay));
    }

    private WaitLoop.Taken taken(List<String> keys, String owner, WaitLoop.Taken taken) {
        if (log.isDebugEnabled()) {
            log.debug("execute took {} on {} as {} (backend queue)", keys, provider.id(), owner);
        }
        return taken;
    }

    private AcquireResult.@Nullable Acquired awaitGrant(List<String> keys, String owner,
            long nanos) {
        try {
            return provider.awaitGrant(keys.get(0), owner, Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw WaitLoop.interruptedWhileWaiting(provider, keys, e);
        } catch (LockingException | IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw ProviderCalls.failure(provider, "awaitGrant", e);
        }
    }

    /**
     * Leaves the queue, releasing a grant that came meanwhile. When that fails (the backend does not answer),
     * the owner may hold the key or get it from a hand-off before its entry lapses: release it in the
     * background until then plus a lease.
     */
    private void leave(List<String> keys, String owner, Duration lease, Duration stay) {
        try {
            ProviderCalls.call(provider, "leaveQueue", () -> {
                provider.leaveQueue(keys.get(0), owner);
                return null;
            });
        } catch (RuntimeException e) {
            long giveUp = clock.nanoTime() + Math.min(stay.toNanos(), Long.MAX_VALUE / 4)
                    + Math.min(lease.compareTo(Duration.ofDays(36500)) > 0 ? Long.MAX_VALUE : lease.toNanos(),
                            Long.MAX_VALUE / 4);
            cleanup.releaseInBackground(provider, keys, owner, giveUp, true,
                    "a call that left the queue of the key without an answer may have been handed it: " + e);
        }
    }
}
