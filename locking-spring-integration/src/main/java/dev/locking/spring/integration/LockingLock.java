package dev.locking.spring.integration;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.locking.api.AcquireOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.ReleaseOptions;
import java.time.Duration;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.integration.support.locks.DistributedLock;

/**
 * The lock of one key from a {@link LockingLockRegistry}: reentrant for the thread that holds it, held on the
 * provider from the first lock to the last unlock, and renewed every third of its lease meanwhile.
 *
 * <p>Taking it first takes a local {@link ReentrantLock} (so threads of this JVM queue here, and only one of them
 * asks the backend), then the key on the provider, waiting in the service's fair, release-woken wait. The thread
 * that locked it must unlock it; another thread's {@code unlock} throws {@link IllegalMonitorStateException}.
 * While held, {@link #fencingToken()} gives the key's fencing token, to hand to the resource the lock protects.
 *
 * <p>Concurrency: the local lock orders the holder's calls. The renewal thread and the holder share the lease
 * length, the token, the loss flag and the time of the last confirmed renewal, which are volatile. A renewal and the
 * release run under {@code state} (which also guards the renewal's future), one after the other: a renewal on its
 * way to the backend when the holder unlocks finishes first, so it can never take the key back after the release.
 */
public final class LockingLock implements DistributedLock {
    private static final Logger log = LoggerFactory.getLogger(LockingLock.class);
    /** How long one wait of an unbounded {@code lock()} lasts before it waits again (keeping its place). */
    private static final Duration FOREVER_SLICE = Duration.ofHours(1);
    private static final long NO_WAIT = 0;
    private static final long FOREVER = Long.MAX_VALUE;

    private final LockingLockRegistry registry;
    private final String key;
    private final String ownerId;
    private final ReentrantLock local = new ReentrantLock();
    private final Object state = new Object();

    @GuardedBy("state")
    private @Nullable ScheduledFuture<?> renewal;

    private volatile boolean holding;
    private volatile boolean lost;
    private volatile long token;
    private volatile Duration ttl;
    private volatile long confirmedAt;
    private volatile long lastUsed = System.nanoTime();

    LockingLock(LockingLockRegistry registry, String key, String ownerId) {
        this.registry = registry;
        this.key = key;
        this.ownerId = ownerId;
        this.ttl = registry.lease();
    }

    /**
     * The key on the provider: the registry's prefix and the key given to {@code obtain}.
     *
     * @return the key
     */
    public String key() {
        return key;
    }

    /**
     * The key's fencing token while the calling thread holds this lock: it grows each time the key is taken anew,
     * so a resource that refuses a lower token than it has seen refuses a holder whose lock was lost.
     *
     * @return the token, or empty when the calling thread does not hold this lock
     */
    public OptionalLong fencingToken() {
        return local.isHeldByCurrentThread() && holding ? OptionalLong.of(token) : OptionalLong.empty();
    }

    /**
     * Whether the key was taken from this lock while held: a renewal found another owner's token on it, or could
     * not confirm it for a whole lease. The holder's {@code unlock} then throws
     * {@link ConcurrentModificationException}.
     *
     * @return true once lost, until the lock is taken again
     */
    public boolean isLost() {
        return lost;
    }

    /** Waits as long as it takes; an interrupt is kept for later, as {@link java.util.concurrent.locks.Lock#lock()} does. */
    @Override
    public void lock() {
        lock(registry.lease());
    }

    /**
     * Takes the lock with a lease of its own, waiting as long as it takes.
     *
     * @param ttl the lease, renewed every third of it while held
     */
    @Override
    public void lock(Duration ttl) {
        checkTtl(ttl);
        registry.checkOpen();
        local.lock();
        try {
            take(FOREVER, ttl, false);
        } catch (InterruptedException e) {
            throw new AssertionError("an uninterruptible take was interrupted", e);
        } catch (RuntimeException | Error e) {
            local.unlock();
            throw e;
        }
    }

    @Override
    public void lockInterruptibly() throws InterruptedException {
        registry.checkOpen();
        local.lockInterruptibly();
        takeOrUnlock(FOREVER, registry.lease());
    }

    /** One attempt: false at once when another owner holds the key (or another thread of this JVM holds it). */
    @Override
    public boolean tryLock() {
        registry.checkOpen();
        if (!local.tryLock()) {
            return false;
        }
        try {
            return takeOrUnlock(NO_WAIT, registry.lease());
        } catch (InterruptedException e) {
            throw new AssertionError("a take without a wait was interrupted", e);
        }
    }

    @Override
    public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
        return tryLock(Duration.ofNanos(unit.toNanos(time)), registry.lease());
    }

    /**
     * Waits up to {@code waitTime} for the key, and holds it with a lease of {@code ttl}.
     *
     * @param waitTime how long to wait; zero or negative makes one attempt
     * @param ttl      the lease, renewed every third of it while held
     * @return whether the lock was taken
     * @throws InterruptedException if the thread was interrupted while waiting (nothing stays locked)
     */
    @Override
    public boolean tryLock(Duration waitTime, Duration ttl) throws InterruptedException {
        checkTtl(ttl);
        registry.checkOpen();
        long start = System.nanoTime();
        long waitNanos = Math.max(0, waitTime.toNanos());
        if (!local.tryLock(waitNanos, TimeUnit.NANOSECONDS)) {
            return false;
        }
        long left = waitNanos - (System.nanoTime() - start);
        return takeOrUnlock(left > 0 ? System.nanoTime() + left : NO_WAIT, ttl);
    }

    /**
     * Releases one hold; the last one releases the key on the provider.
     *
     * @throws IllegalMonitorStateException     if the calling thread does not hold this lock
     * @throws ConcurrentModificationException if the key was lost while held (its lease ran out, or someone
     *                                          released it): what it protected may have been changed by another
     *                                          holder meanwhile
     */
    @Override
    public void unlock() {
        if (!local.isHeldByCurrentThread()) {
            throw new IllegalMonitorStateException("the lock of '" + key + "' is not held by this thread");
        }
        try {
            if (local.getHoldCount() == 1) {
                releaseOnBackend();
            }
        } finally {
            lastUsed = System.nanoTime();
            local.unlock();
        }
    }

    /** Not supported: a condition cannot be waited on across processes. */
    @Override
    public Condition newCondition() {
        throw new UnsupportedOperationException("a distributed lock has no conditions");
    }

    /** Whether nobody holds or waits for this lock and it was last used longer ago than {@code ageNanos}. */
    boolean unusedSince(long now, long ageNanos) {
        return !local.isLocked() && !local.hasQueuedThreads() && now - lastUsed > ageNanos;
    }

    /** Renews now with a new lease length, for the thread that holds the lock. */
    void renewNow(Duration newTtl) {
        checkTtl(newTtl);
        if (!local.isHeldByCurrentThread() || !holding) {
            throw new IllegalMonitorStateException("the lock of '" + key + "' is not held by this thread");
        }
        synchronized (state) {
            ttl = newTtl;
            if (!renew()) {
                throw lostException();
            }
            scheduleRenewal(newTtl);
        }
    }

    /** The registry closes: stop renewing and release the key if held (a holder's unlock then reports it lost). */
    void abandon() {
        boolean wasHolding;
        synchronized (state) {
            cancelRenewal();
            wasHolding = holding;
            holding = false;
        }
        if (wasHolding) {
            lost = true;
            registry.locking().release(List.of(key), releaseOptions());
        }
    }

    private boolean takeOrUnlock(long deadline, Duration newTtl) throws InterruptedException {
        boolean taken = false;
        try {
            taken = take(deadline, newTtl, true);
            return taken;
        } finally {
            if (!taken) {
                local.unlock();
            }
        }
    }

    /**
     * Takes the key on the provider for the first hold (later holds of this thread are already covered). Waits
     * until the deadline ({@link #NO_WAIT}: one attempt; {@link #FOREVER}: no end).
     */
    private boolean take(long deadline, Duration newTtl, boolean interruptible) throws InterruptedException {
        if (local.getHoldCount() > 1) {
            return true;
        }
        boolean interrupted = false;
        try {
            while (true) {
                @Nullable Duration wait = deadline == NO_WAIT ? null
                        : deadline == FOREVER ? FOREVER_SLICE
                        : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                long sent = System.nanoTime();
                try {
                    Lease lease = registry.locking().acquire(List.of(key), AcquireOptions.builder()
                            .ownerId(ownerId).expire(newTtl).provider(registry.provider()).wait(wait).build());
                    startHolding(tokenOf(lease), newTtl, sent);
                    return true;
                } catch (LockAcquisitionException e) {
                    return false;
                } catch (LockTimeoutException e) {
                    if (deadline != FOREVER) {
                        return false;
                    }
                } catch (LockingException e) {
                    if (!Thread.interrupted()) {
                        throw e;
                    }
                    if (interruptible) {
                        InterruptedException ie = new InterruptedException("interrupted while waiting for '" + key + "'");
                        ie.initCause(e);
                        throw ie;
                    }
                    interrupted = true; // lock() keeps waiting and sets the flag again at the end
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void startHolding(long newToken, Duration newTtl, long sentAt) {
        token = newToken;
        ttl = newTtl;
        confirmedAt = sentAt;
        lost = false;
        holding = true;
        lastUsed = sentAt;
        scheduleRenewal(newTtl);
    }

    private void releaseOnBackend() {
        boolean wasHolding;
        synchronized (state) { // waits for a renewal under way; later ones see holding == false
            cancelRenewal();
            wasHolding = holding;
            holding = false;
        }
        boolean released = wasHolding && registry.locking().release(List.of(key), releaseOptions());
        if (lost || !released) {
            throw lostException();
        }
    }

    private void scheduleRenewal(Duration every) {
        long period = Math.max(1, every.toMillis() / 3);
        synchronized (state) {
            if (renewal != null) {
                renewal.cancel(false);
            }
            renewal = registry.renewals().scheduleWithFixedDelay(this::renewInBackground, period, period,
                    TimeUnit.MILLISECONDS);
        }
    }

    private void cancelRenewal() {
        synchronized (state) {
            if (renewal != null) {
                renewal.cancel(false);
                renewal = null;
            }
        }
    }

    private void renewInBackground() {
        synchronized (state) {
            if (holding && !lost) {
                renewHeld();
            }
        }
    }

    /** One background renewal, under {@code state}, of a lock still held. */
    @GuardedBy("state")
    private void renewHeld() {
        try {
            if (!renew()) {
                log.warn("The lock of '{}' was lost: another owner holds it, or it was taken anew after it lapsed", key);
                cancelRenewal();
            }
        } catch (RuntimeException e) {
            if (System.nanoTime() - confirmedAt >= ttl.toNanos()) {
                lost = true;
                cancelRenewal();
                log.warn("The lock of '{}' was lost: no renewal was confirmed for a whole lease ({})", key, ttl, e);
            } else {
                log.debug("Renewing the lock of '{}' failed; trying again", key, e);
            }
        }
    }

    /**
     * Resets the lease to now + ttl by taking the key again under the same owner. The same token means it was held
     * all along; another token means it lapsed and was taken anew (someone may have held it in between), so it
     * counts as lost. Returns false when lost.
     */
    private boolean renew() {
        long sent = System.nanoTime();
        try {
            Lease lease = registry.locking().acquire(List.of(key), AcquireOptions.builder()
                    .ownerId(ownerId).expire(ttl).provider(registry.provider()).build());
            if (tokenOf(lease) != token) {
                lost = true;
                return false;
            }
            confirmedAt = sent;
            return true;
        } catch (LockAcquisitionException e) {
            lost = true;
            return false;
        }
    }

    private long tokenOf(Lease lease) {
        Long t = lease.fencingTokens().get(key);
        if (t == null) {
            throw new IllegalStateException("the lease of '" + key + "' has no fencing token: " + lease);
        }
        return t;
    }

    private ReleaseOptions releaseOptions() {
        return ReleaseOptions.builder().ownerId(ownerId).provider(registry.provider()).build();
    }

    private ConcurrentModificationException lostException() {
        return new ConcurrentModificationException("The lock of '" + key + "' was lost while held (its lease ran "
                + "out, or it was released or taken by someone else): what it protected may have been changed by "
                + "another holder meanwhile");
    }

    private static void checkTtl(Duration ttl) {
        if (ttl == null || ttl.toMillis() < 3) {
            throw new IllegalArgumentException("ttl must be at least 3 ms, was " + ttl);
        }
    }

    @Override
    public String toString() {
        return "LockingLock[" + key + (holding ? ", held" : "") + (lost ? ", lost" : "") + "]";
    }
}
