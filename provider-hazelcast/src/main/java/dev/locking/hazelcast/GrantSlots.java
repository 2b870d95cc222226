package dev.locking.hazelcast;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.LockingClock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Where a provider keeps its owners that queue for a key, so that a grant heard by the {@link GrantListener}
 * reaches the owner's thread: one {@link Slot} per queued owner, registered by {@code acquireOrQueue} before
 * its step runs (so a grant that comes before the thread sleeps in {@code awaitGrant} waits in the slot), and
 * removed when the owner holds the key or leaves the queue. A slot nobody used for {@link #IDLE_NANOS} (an
 * SPI caller that walked away) is dropped by a later registration.
 *
 * <p>Concurrency: safe for concurrent use. The map is concurrent; a slot's fields are volatile. The grant is
 * written before the sleeper is read, and the sleeper before the grant is read, so either the delivering
 * thread sees the sleeper (and unparks it) or the sleeper sees the grant. Two registrations may sweep at
 * once; each removes a slot only if it is still the one it found idle.
 */
final class GrantSlots {

    /** How long a slot may stay unused before a registration drops it. */
    static final long IDLE_NANOS = 10L * 60 * 1_000_000_000;
    /** How often, at most, a registration looks for idle slots. */
    private static final long SWEEP_EVERY_NANOS = 60L * 1_000_000_000;

    private final ConcurrentHashMap<String, Slot> byOwner = new ConcurrentHashMap<>();
    private final LockingClock clock;
    private volatile long nextSweep;

    GrantSlots(LockingClock clock) {
        this.clock = clock;
        this.nextSweep = clock.nanoTime() + SWEEP_EVERY_NANOS;
    }

    /** One queued owner: the key, the grant once it came, the thread that sleeps for it. */
    static final class Slot {
        final String key;
        volatile AcquireResult.@Nullable Acquired grant;
        volatile @Nullable Thread sleeper;
        /** When the holder's lease ends (monotonic), as the owner's last call saw it, or 0 when unknown. */
        volatile long holderEnds;
        volatile long usedAt;

        Slot(String key, long now) {
            this.key = key;
            this.usedAt = now;
        }
    }

    /** The owner's slot for the key, registered now if it has none (or one for another key). */
    Slot register(String key, String owner) {
        long now = clock.nanoTime();
        Slot slot = byOwner.compute(owner, (o, old) -> old != null && old.key.equals(key) ? old : new Slot(key, now));
        slot.usedAt = now;
        sweepIfDue(now);
        return slot;
    }

    /** The owner no longer waits for a grant (it holds the key, or left the queue). */
    void remove(String owner) {
        byOwner.remove(owner);
    }

    /** Hands a grant heard from the cluster to the owner's slot, if it waits for that key here. */
    void deliver(String key, String owner, AcquireResult.Acquired grant) {
        Slot slot = byOwner.get(owner);
        if (slot == null || !slot.key.equals(key)) {
            return; // not queued here, or no longer
        }
        slot.grant = grant;
        Thread sleeper = slot.sleeper;
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
    }

    /**
     * Sleeps on the slot until a grant came, {@code deadline} (monotonic) passed or {@code closed} says so;
     * the grant, or {@code null}.
     */
    AcquireResult.@Nullable Acquired await(Slot slot, long deadline, BooleanSupplier closed)
            throws InterruptedException {
        slot.sleeper = Thread.currentThread();
        try {
            while (true) {
                AcquireResult.Acquired given = slot.grant;
                if (given != null) {
                    return given;
                }
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                long left = deadline - clock.nanoTime();
                if (left <= 0 || closed.getAsBoolean()) {
                    return null;
                }
                LockSupport.parkNanos(this, left);
            }
        } finally {
            slot.sleeper = null;
            slot.usedAt = clock.nanoTime();
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

    /** Whether the owner's slot holds a grant; for tests. */
    boolean arrived(String owner) {
        Slot slot = byOwner.get(owner);
        return slot != null && slot.grant != null;
    }

    /** How many owners have a slot; for tests. */
    int size() {
        return byOwner.size();
    }

    private void sweepIfDue(long now) {
        long due = nextSweep;
        if (now - due < 0) {
            return;
        }
        nextSweep = now + SWEEP_EVERY_NANOS;
        for (Map.Entry<String, Slot> e : byOwner.entrySet()) {
            Slot slot = e.getValue();
            if (slot.sleeper == null && now - slot.usedAt > IDLE_NANOS) {
                byOwner.remove(e.getKey(), slot);
            }
        }
    }
}
