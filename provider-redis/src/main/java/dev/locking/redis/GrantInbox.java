package dev.locking.redis;

import dev.locking.spi.AcquireResult;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The grants this process expects: for each owner queued in Redis by this provider ({@code acquireOrQueue}), a
 * {@link Slot} that the {@link ReleaseChannel} fills when a release script hands the owner its lock, and that the
 * owner's thread sleeps on in {@code awaitGrant}.
 *
 * <p>A slot is made before the script that queues the owner runs, and stays until the owner takes the grant, holds
 * the lock by a later call, or leaves the queue; so a grant that arrives between the script's reply and the
 * owner's sleep is kept, not lost. A slot whose owner stopped calling (its queue entry lapsed in Redis too) is
 * dropped by a later registration. A grant for an owner without a slot is ignored: the owner's next
 * {@code acquireOrQueue} finds the lock its own.
 *
 * <p>Concurrency: the map is concurrent; a slot's fields are volatile. The sleeper publishes its thread and then
 * reads the grant; the channel's thread writes the grant and then reads the thread: so either the sleeper sees the
 * grant or the channel sees the sleeper and unparks it.
 */
final class GrantInbox {

    /** One queued owner's expected grant. */
    static final class Slot {
        final String key;
        final String lockKey;
        /** Monotonic time after which the slot may be dropped: the owner's stay ran out without a new call. */
        volatile long lapsesAt;
        /** Monotonic time at which the lock's current lease runs out (a sleeper looks again then), or 0. */
        volatile long holderLapsesAt;
        volatile @Nullable Thread sleeper;
        volatile AcquireResult.@Nullable Acquired grant;

        Slot(String key, String lockKey) {
            this.key = key;
            this.lockKey = lockKey;
        }
    }

    /** Registrations between two sweeps of lapsed slots. */
    private static final int SWEEP_EVERY = 64;

    private final ConcurrentHashMap<String, Slot> byOwner = new ConcurrentHashMap<>();
    private final AtomicInteger registrations = new AtomicInteger();

    /**
     * The owner's slot for the key, made if it has none (or one for another key), its lapse moved to
     * {@code lapsesAt}. Called before the script that may queue the owner.
     */
    Slot expect(String owner, String key, String lockKey, long lapsesAt) {
        Slot slot = byOwner.get(owner);
        if (slot == null || !slot.key.equals(key)) {
            slot = new Slot(key, lockKey);
            byOwner.put(owner, slot);
            if (registrations.incrementAndGet() % SWEEP_EVERY == 0) {
                sweep(System.nanoTime());
            }
        }
        slot.lapsesAt = lapsesAt;
        return slot;
    }

    /** The owner's slot, or null. */
    @Nullable Slot slotOf(String owner) {
        return byOwner.get(owner);
    }

    /** The owner expects no grant any more (it holds the lock, or left the queue). */
    void forget(String owner) {
        byOwner.remove(owner);
    }

    /**
     * Hands a grant to the owner's slot and wakes its sleeper; ignored when the owner has no slot for that lock.
     *
     * @param lockKey     the Redis lock key the grant is for
     * @param owner       the owner the lock was handed to
     * @param token       its fencing token
     * @param leaseMillis the lease the hand-off gave, from when the release ran
     */
    void deliver(String lockKey, String owner, long token, long leaseMillis) {
        Slot slot = byOwner.get(owner);
        if (slot == null || !slot.lockKey.equals(lockKey)) {
            return;
        }
        slot.grant = new AcquireResult.Acquired(Map.of(slot.key, token), Instant.now().plusMillis(leaseMillis));
        Thread sleeper = slot.sleeper;
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
    }

    /**
     * Sleeps on the slot until its grant came, {@code deadline} ({@link System#nanoTime()}) passed, the lock's
     * current lease ran out (then the owner should call again: the lock may be its own to take), or the
     * provider closed.
     *
     * @return the grant, or null
     */
    static AcquireResult.@Nullable Acquired await(Slot slot, long deadline, BooleanSupplier closed)
            throws InterruptedException {
        long holderLapse = slot.holderLapsesAt;
        long until = holderLapse != 0 && holderLapse - deadline < 0 ? holderLapse : deadline;
        slot.sleeper = Thread.currentThread();
        try {
            while (true) {
                AcquireResult.Acquired grant = slot.grant;
                if (grant != null) {
                    return grant;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = until - System.nanoTime();
                if (left <= 0 || closed.getAsBoolean()) {
                    if (until != deadline) {
                        slot.holderLapsesAt = 0; // looked at once; the owner's next call sets it again
                    }
                    return null;
                }
                LockSupport.parkNanos(slot, left);
            }
        } finally {
            slot.sleeper = null;
        }
    }

    /** Wakes every sleeper without a grant (the provider closes). */
    void wakeEveryone() {
        for (Slot slot : byOwner.values()) {
            Thread sleeper = slot.sleeper;
            if (sleeper != null) {
                LockSupport.unpark(sleeper);
            }
        }
    }

    /** For tests: the number of owners that expect a grant. */
    int expected() {
        return byOwner.size();
    }

    private void sweep(long now) {
        byOwner.values().removeIf(slot -> slot.sleeper == null && now - slot.lapsesAt > 0);
    }
}
