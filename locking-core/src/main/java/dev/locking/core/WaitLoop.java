package dev.locking.core;

import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.BackendCallException;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the {@code execute} calls (and the {@code acquire} calls given a wait, see {@link #acquire}) of one
 * service take their keys on one provider: each asks the backend
 * when its turn comes and waits in between, until it holds the keys, its timeout ends or its thread is
 * interrupted. The whole life of a waiter is here; {@link DefaultLockingService} calls {@link #take} once
 * before the job and {@link #released} once after it.
 *
 * <h2>One call</h2>
 * <ol>
 *   <li><b>Ask at once</b> when no call of this JVM holds or waits for any of the keys (the uncontended
 *       path: one provider call, nothing recorded), or when the call may not queue (see {@link #take}).</li>
 *   <li><b>Join the {@link LocalQueue}</b> when calls here hold or wait for a key, or when the backend said
 *       a key is held. A call that joined without having asked looks once more at once: what made the keys
 *       busy may have ended before it joined, and then nobody would signal it.</li>
 *   <li><b>Wait</b>, never longer than a slice nor past the deadline: on the provider's release
 *       notification when the key the backend named is held elsewhere (another JVM, a plain
 *       {@code acquire}, or a call here the queue did not count), else parked until a call here makes
 *       this call's turn come.</li>
 *   <li><b>Ask again</b> after a wait on the provider (the provider may have kept the released key for
 *       this call: lp_memory reserves it for its longest waiter), when the queue says it is this call's
 *       turn, or when the call has not asked for a whole slice (so a lost wake-up costs a slice, not a
 *       hang). Otherwise wait again.</li>
 *   <li><b>Leave</b>: a call that took its keys is counted as their holder and leaves its lines in the
 *       same step; one that gives up (timeout, interrupt, failure) leaves its lines and wakes whoever is
 *       first now. After the job, {@link #released} wakes the next waiter of each key.</li>
 * </ol>
 *
 * <h2>A backend that hands off</h2>
 * A call on one key, with a timeout, on a provider whose {@link LockingProvider#handsOff()} is true does not
 * go through the steps above: it waits in the backend's own queue of that key ({@link BackendQueueWait}),
 * which orders the calls of every JVM, this one's included, so the {@link LocalQueue} is bypassed. A call
 * on several keys keeps the path above (the backend takes all its keys in one step or none).
 *
 * <h2>Concurrency</h2>
 * Thread-safe: one instance serves every {@code execute} of its provider in this service, from any
 * number of threads. Its own fields are final and immutable; the state of one call lives in the local
 * variables of the thread running {@link #take}. What calls share is the {@link LocalQueue} (guarded
 * line by line, see its comment); the only signals between threads are the queue's unparks and the
 * provider's release notification.
 */
final class WaitLoop {
    /** Under the service's name: these are the messages of its {@code execute}. */
    private static final Logger log = LoggerFactory.getLogger(DefaultLockingService.class);

    /** The longest single wait before trying again, in case a release notification was missed. */
    static final Duration WAIT_SLICE = Duration.ofSeconds(2);

    /**
     * What a call took, when it sent the acquire that took it (the lease runs from no earlier), the lease the
     * take may have given (the full lease, or the short first lease of a key handed over by a backend's queue),
     * and the keys on which the local queue counts it as holder (to pass to {@link #released}).
     */
    record Taken(AcquireResult.Acquired acquired, long sentNanos, Duration firstLease, List<String> counted) {
        Taken(AcquireResult.Acquired acquired, long sentNanos, Duration firstLease) {
            this(acquired, sentNanos, firstLease, List.of());
        }

        Taken counting(List<String> keys) {
            return new Taken(acquired, sentNanos, firstLease, keys);
        }
    }

    /**
     * What ended one wait.
     *
     * @param byProvider whether the provider's notification ended it (then the call asks again whatever
     *                   its place in the queue)
     */
    private record Woken(boolean byProvider) {
        /** No wait yet. */
        static final Woken NOT_YET = new Woken(false);
        /** A park in the local queue ended: signalled, or the slice ran out. */
        static final Woken LOCALLY = new Woken(false);
        /** The provider's wait ended: a release, or the slice ran out. */
        static final Woken BY_PROVIDER = new Woken(true);
    }

    /** The first lease of a lock taken without one (an {@code acquire} without expire): it never expires. */
    private static final Duration NO_LEASE = ChronoUnit.FOREVER.getDuration();

    private final LockingProvider provider;
    private final LocalQueue queue = new LocalQueue();
    private final LockingClock clock;
    private final long waitSliceNanos;
    /** Releases, in the background, keys that an acquire without an answer may have taken. */
    private final LeaseRenewer cleanup;

    /** The wait of single-key calls on a provider that {@linkplain LockingProvider#handsOff() hands off}. */
    private final BackendQueueWait handOffs;

    WaitLoop(LockingProvider provider, LockingClock clock, Duration waitSlice, LeaseRenewer cleanup) {
        this.provider = provider;
        this.clock = clock;
        this.waitSliceNanos = waitSlice.toNanos();
        this.cleanup = cleanup;
        this.handOffs = new BackendQueueWait(provider, clock, waitSliceNanos, cleanup);
    }

    /** The queue of this provider's calls; for tests. */
    LocalQueue queue() {
        return queue;
    }

    /**
     * Takes the keys for an owner, waiting until they are free or the timeout ends.
     *
     * @param keys     the keys, canonical
     * @param owner    the owner id of this call
     * @param lease    the lease to ask for
     * @param timeout  how long to wait at most
     * @param mayQueue whether the call takes part in the local queue; false for a call made while its thread
     *                 holds keys of another {@code execute}, which must not wait politely behind waiters
     *                 that may be waiting for those very keys (it asks the backend directly)
     * @return what the call took; it holds the keys and must end with {@link #released}
     * @throws LockTimeoutException if the keys were not free in time; nothing was taken
     * @throws LockingException     if the thread was interrupted while waiting (its flag stays set), or the
     *                              provider failed; nothing was taken (or what may have been is released
     *                              in the background)
     */
    Taken take(List<String> keys, String owner, Duration lease, Duration timeout, boolean mayQueue) {
        long deadline = clock.nanoTime() + timeout.toNanos();
        if (keys.size() == 1 && !timeout.isZero() && provider.handsOff()) {
            return handOffs.take(keys, owner, lease, deadline, timeout);
        }
        return waitFor(Caller.EXECUTE, keys, owner, lease, deadline, timeout, mayQueue);
    }

    /**
     * Takes the keys for an {@code acquire} that may wait: the same wait as {@link #take}, with what differs
     * for a lock that outlives the call and whose owner is the caller's (or none).
     * <ul>
     *   <li>The lock is not counted in the {@link LocalQueue}: its call ends now, and it is released later,
     *       from anywhere (another thread, another process, its lease). The next waiter of this JVM asks the
     *       backend, finds the key held and waits on the provider's notification, as behind any holder
     *       elsewhere.</li>
     *   <li>An attempt that failed without an answer is not released in the background: the owner is not
     *       unique to the call (it may have held the keys before, and an anonymous release would free anyone's
     *       anonymous lock), so what it may have taken is left to its lease, as for an {@code acquire} without
     *       a wait.</li>
     *   <li>The backend's queue ({@link BackendQueueWait}) is used for one key on a provider that hands off
     *       only when the call has an owner and a lease, which a grant needs: a key handed over carries the
     *       grant's short first lease, which nobody would renew, so the call re-enters at once for its full
     *       lease. Otherwise the call waits on the provider's notification; the backend's queue goes first
     *       then (no barging), so such a call may see its wait end while calls queued there take the key.
     *       Concurrent waiting calls of one owner on one key share the owner's queue entry: one that gives up
     *       leaves the queue for that owner, releasing the key if the owner was handed it meanwhile.</li>
     * </ul>
     *
     * @param keys     the keys, canonical
     * @param owner    the caller's owner, or null for an anonymous lock
     * @param lease    the lease, or null for a lock that never expires
     * @param wait     how long to wait at most, positive
     * @param mayQueue as for {@link #take}
     * @return what the call took, which it holds until released or its lease ends
     * @throws LockTimeoutException if the keys were not free in time; nothing was taken
     * @throws LockingException     if the thread was interrupted while waiting (its flag stays set), or the
     *                              provider failed
     */
    AcquireResult.Acquired acquire(List<String> keys, @Nullable String owner, @Nullable Duration lease, Duration wait,
            boolean mayQueue) {
        long deadline = clock.nanoTime() + wait.toNanos();
        if (owner != null && lease != null && keys.size() == 1 && provider.handsOff()) {
            // One plain attempt first: it re-enters a key the owner holds with the semantics of acquire (the
            // lease reset), which acquireOrQueue does not (it answers such a key as it is).
            AcquireResult first = tryAcquire(keys, owner, lease);
            if (first instanceof AcquireResult.Acquired acquired) {
                return acquired;
            }
            Taken taken = handOffs.take(keys, owner, lease, deadline, wait);
            if (taken.firstLease().compareTo(lease) >= 0) {
                return taken.acquired();
            }
            AcquireResult full = tryAcquire(keys, owner, lease);
            if (full instanceof AcquireResult.Acquired acquired) {
                return acquired;
            }
            // The grant's first lease ran out before the re-entry reached the backend, and the key went on.
            throw new LockTimeoutException();
        }
        Taken taken = waitFor(Caller.ACQUIRE, keys, owner, lease, deadline, wait, mayQueue);
        released(taken);
        return taken.acquired();
    }

    /** Who waits: what the wait may do with the call's owner. */
    private enum Caller {
        /** {@code execute}: a fresh owner unique to the call, always a lease. */
        EXECUTE,
        /** {@code acquire} with a wait: the caller's owner or none, maybe no lease. */
        ACQUIRE
    }

    /** The steps of the class comment, for a call that does not wait in the backend's queue. */
    private Taken waitFor(Caller caller, List<String> keys, @Nullable String owner, @Nullable Duration lease,
            long deadline, Duration timeout, boolean mayQueue) {
        LocalQueue.Waiter waiter = null;
        long lastTry = 0;
        Woken woken = Woken.NOT_YET;
        try {
            while (true) {
                long now = clock.nanoTime();
                Taken taken = null;
                String conflict = null;
                if (mayTry(keys, mayQueue, waiter, woken, now - lastTry)) {
                    lastTry = now;
                    AcquireResult result = caller == Caller.EXECUTE
                            ? tryAcquireOrCleanUp(keys, Objects.requireNonNull(owner, "owner"),
                                    Objects.requireNonNull(lease, "lease"))
                            : tryAcquire(keys, owner, lease);
                    if (result instanceof AcquireResult.Acquired acquired) {
                        taken = new Taken(acquired, now, lease == null ? NO_LEASE : lease);
                    } else {
                        conflict = ((AcquireResult.Conflict) result).key();
                    }
                }
                if (taken != null) {
                    // Counted as holder, out of its lines in the same step.
                    taken = taken.counting(queue.took(waiter, keys));
                    waiter = null;
                    if (log.isDebugEnabled()) {
                        log.debug("{} took {} on {} as {}", caller.name().toLowerCase(Locale.ROOT), keys,
                                provider.id(), owner);
                    }
                    return taken;
                }
                woken = Woken.NOT_YET;
                if (mayQueue && waiter == null) {
                    waiter = queue.join(keys);
                    lastTry = now;
                    if (conflict == null) {
                        continue; // joined without asking: look again now that we are in the lines
                    }
                }
                woken = waitOnce(keys, waiter, conflict, sliceOrTimeout(deadline, timeout, keys, conflict));
            }
        } finally {
            if (waiter != null) {
                queue.leave(waiter);
            }
        }
    }

    /**
     * Records that a call's job is over and the provider released its keys; wakes the next waiter of each
     * key on which the call was counted.
     */
    void released(Taken taken) {
        if (!taken.counted().isEmpty()) {
            queue.released(taken.counted());
        }
    }

    /**
     * Whether the call asks the backend now. A call not in the queue asks unless it should queue. A waiter
     * asks after a wait on the provider whatever its place (the provider may have kept the key for it, and
     * only a call that met a holder outside this JVM waits there), when the queue gives it its turn, or when
     * it has not asked for a whole slice: the queue must never cost more than a slice, whatever went wrong
     * with a wake-up. The order matters: {@link LocalQueue#mayTry} clears the waiter's signal, so it runs
     * only when the check before it said no.
     */
    private boolean mayTry(List<String> keys, boolean mayQueue, LocalQueue.@Nullable Waiter waiter, Woken woken,
            long sinceLastTry) {
        if (waiter == null) {
            return !mayQueue || !queue.busy(keys);
        }
        return woken.byProvider() || queue.mayTry(waiter) || sinceLastTry >= waitSliceNanos;
    }

    /** How long the next wait may last: a slice, or what is left of the timeout if less. */
    private long sliceOrTimeout(long deadline, Duration timeout, List<String> keys, @Nullable String conflict) {
        long remaining = deadline - clock.nanoTime();
        if (remaining <= 0) {
            if (log.isDebugEnabled()) {
                log.debug("call timed out after {} waiting for {} on {} ({})", timeout, keys, provider.id(),
                        conflict == null ? "waiting behind other calls of this JVM" : "held: \"" + conflict + "\"");
            }
            throw new LockTimeoutException();
        }
        return Math.min(remaining, waitSliceNanos);
    }

    /**
     * Waits once: on the provider when the backend named a key that no call here holds (or the call is not
     * in the queue), else in the queue, where calls of this JVM signal the call when its turn comes.
     */
    private Woken waitOnce(List<String> keys, LocalQueue.@Nullable Waiter waiter, @Nullable String conflict,
            long nanos) {
        if (conflict != null && (waiter == null || !queue.heldHere(conflict))) {
            awaitRelease(keys, conflict, nanos);
            return Woken.BY_PROVIDER;
        }
        LocalQueue.park(Objects.requireNonNull(waiter, "waiter"), nanos);
        if (Thread.currentThread().isInterrupted()) {
            throw interruptedWhileWaiting(keys, null);
        }
        return Woken.LOCALLY;
    }

    /**
     * One attempt. When it fails without an answer, the request may still have taken the keys on the backend
     * (only the reply was lost), and no one but this call knows its owner id: release them in the
     * background, so they do not stay blocked for a whole lease.
     */
    private AcquireResult tryAcquireOrCleanUp(List<String> keys, String owner, Duration lease) {
        long sent = clock.nanoTime();
        return ProviderCalls.call(provider, "tryAcquire", () -> {
            try {
                return provider.tryAcquire(keys, owner, lease);
            } catch (LockingException | IllegalArgumentException | IllegalStateException e) {
                // Any other LockingException is the provider's answer (nothing changed), as is a refusal; so is a
                // call that the toolkit knows never reached the backend.
                if (e instanceof ProviderUnavailableException
                        && !(e instanceof BackendCallException b && !b.mayHaveTakenEffect())) {
                    releaseMaybeTaken(keys, owner, sent, lease, e);
                }
                throw e;
            } catch (RuntimeException e) {
                releaseMaybeTaken(keys, owner, sent, lease, e);
                throw e;
            }
        });
    }

    /** One attempt for an {@code acquire}: what it may have taken without an answer is left to its lease. */
    private AcquireResult tryAcquire(List<String> keys, @Nullable String owner, @Nullable Duration lease) {
        return ProviderCalls.call(provider, "tryAcquire", () -> provider.tryAcquire(keys, owner, lease));
    }

    private void releaseMaybeTaken(List<String> keys, String owner, long sentNanos, Duration lease,
            RuntimeException failure) {
        cleanup.releaseInBackground(provider, keys, owner, sentNanos + lease.toNanos(), true,
                "an acquire that failed without an answer may have taken them: " + failure);
    }

    private void awaitRelease(List<String> keys, String conflict, long nanos) {
        try {
            provider.awaitRelease(List.of(conflict), Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interruptedWhileWaiting(keys, e);
        } catch (LockingException | IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw ProviderCalls.failure(provider, "awaitRelease", e);
        }
    }

    static LockingException interruptedWhileWaiting(LockingProvider provider, List<String> keys,
            @Nullable InterruptedException cause) {
        return new LockingException("Interrupted while waiting to lock " + keys + " on " + provider.id()
                + "; nothing was locked", cause);
    }

    private LockingException interruptedWhileWaiting(List<String> keys, @Nullable InterruptedException cause) {
        return interruptedWhileWaiting(provider, keys, cause);
    }

    @Override
    public String toString() {
        return "WaitLoop[" + provider.id() + "]";
    }
}
