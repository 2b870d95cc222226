package dev.locking.spi.support;

import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The grants a provider that hands keys off in its backend ({@link dev.locking.spi.LockingProvider#handsOff()})
 * expects: for each owner it queued ({@code acquireOrQueue}), a {@link Slot} that the backend's grant message
 * fills and that the owner's thread sleeps on in {@code awaitGrant}.
 *
 * <p>Register the slot before the backend step that may queue the owner ({@link #expect}), so that a grant sent
 * right after the step's reply waits in the slot instead of being lost; forget it when the owner holds the key or
 * leaves the queue. A slot whose owner stopped calling (its time, given at registration, ran out) is dropped by a
 * later registration. A grant for an owner without a slot is ignored: the owner's next {@code acquireOrQueue}
 * finds the key its own.
 *
 * <pre>{@code
 * private final GrantInbox grants = new GrantInbox();
 *
 * public AcquireResult acquireOrQueue(String key, String owner, Duration lease, Duration stay) {
 *     GrantInbox.Slot slot = grants.expect(owner, key, tagOf(key), stay);
 *     Reply r = backend.queue(key, owner, lease, stay);           // takes the key or queues the owner
 *     if (r.taken()) { grants.forget(owner); return r.acquired(); }
 *     return new AcquireResult.Conflict(key);
 * }
 *
 * public AcquireResult.Acquired awaitGrant(String key, String owner, Duration maxWait) throws InterruptedException {
 *     return grants.awaitGrant(owner, key, tagOf(key), System.nanoTime() + maxWait.toNanos(), this::isClosed);
 * }
 *
 * // the backend's grant message: (tag of the key, owner, token, lease)
 * void onGranted(String tag, String owner, long token, long leaseMillis) {
 *     grants.deliver(tag, owner, token, leaseMillis);
 * }
 * }</pre>
 *
 * <p>Concurrency: safe for concurrent use. The map is concurrent; a slot's fields are volatile. The sleeper
 * publishes its thread and then reads the grant; the delivering thread writes the grant and then reads the
 * thread: so either the sleeper sees the grant or the deliverer sees the sleeper and unparks it.
 *
 * @since 0.2.0
 */
public final class GrantInbox {

    /** One queued owner's expected grant. */
    public static final class Slot {
        private final String key;
        private final String tag;
        /** Monotonic time after which the slot may be dropped: the owner's stay ran out without a new call. */
        private volatile long lapsesAt;
        /** Monotonic time at which the key's current lease runs out (a sleeper looks again then), or 0. */
        private volatile long holderLapsesAt;
        private volatile @Nullable Thread sleeper;
        private volatile AcquireResult.@Nullable Acquired grant;

        private Slot(String key, String tag) {
            this.key = key;
            this.tag = tag;
        }

        /**
         * The key the owner queues for.
         *
         * @return the key, as the SPI names it
         */
        public String key() {
            return key;
        }

        /**
         * The key in the backend's own naming, as its grant messages name it.
         *
         * @return the tag given at registration
         */
        public String tag() {
            return tag;
        }

        /**
         * The grant, once it came.
         *
         * @return the grant, or {@code null}
         */
        public AcquireResult.@Nullable Acquired grant() {
            return grant;
        }

        /**
         * Says when the current holder's lease runs out, as the owner's last backend step saw it: a sleeper in
         * {@link GrantInbox#await} returns then (at most once), so that the owner's next call can take a key that
         * lapsed without anybody announcing it.
         *
         * @param nanoTime a {@link System#nanoTime()} value, or 0 for unknown or never
         */
        public void holderLapsesAt(long nanoTime) {
            holderLapsesAt = nanoTime;
        }

        /**
         * Like {@link #holderLapsesAt}, from the backend's reply: the holder's lease had {@code remainingMillis}
         * left when the backend answered the owner's step sent at {@code sentNanos}. Counted from the send and
         * rounded up by a millisecond, so the sleeper looks again early rather than late.
         *
         * @param sentNanos       the {@link System#nanoTime()} at which the step was sent
         * @param remainingMillis the holder's lease left, as the backend answered; negative for unknown or never
         */
        public void holderLapsesAfter(long sentNanos, long remainingMillis) {
            holderLapsesAt = remainingMillis < 0 ? 0
                    : sentNanos + TimeUnit.MILLISECONDS.toNanos(Math.min(remainingMillis, Leases.MAX.toMillis()) + 1);
        }

        /** Whether a thread sleeps on this slot now; for tests. */
        boolean hasSleeper() {
            return sleeper != null;
        }
    }

    /**
     * How long past the owner's stay its slot is kept by {@link #expect(String, String, String, Duration)}: the
     * owner's next call (or the reply that queued it) may come a little after its entry's stay by this JVM's
     * clock.
     */
    public static final Duration STAY_SLACK = Duration.ofSeconds(1);

    /** Registrations between two sweeps of lapsed slots. */
    private static final int SWEEP_EVERY = 64;

    private final ConcurrentHashMap<String, Slot> byOwner = new ConcurrentHashMap<>();
    private final AtomicInteger registrations = new AtomicInteger();

    /** Creates an empty inbox. */
    public GrantInbox() {
        // nothing expected yet
    }

    /**
     * The owner's slot for the key, made if it has none (or one for another key), kept at least until
     * {@code lapsesAt}. Call it before the backend step that may queue the owner.
     *
     * @param owner    the queued owner
     * @param key      the key, as the SPI names it
     * @param tag      the key as the backend's grant messages name it (the key itself will do)
     * @param lapsesAt a {@link System#nanoTime()} value after which nobody waits in this slot any more
     * @return the slot
     */
    public Slot expect(String owner, String key, String tag, long lapsesAt) {
        Slot slot = byOwner.get(owner);
        if (slot == null || !slot.key.equals(key)) {
            slot = new Slot(Objects.requireNonNull(key, "key"), Objects.requireNonNull(tag, "tag"));
            byOwner.put(owner, slot);
            if (registrations.incrementAndGet() % SWEEP_EVERY == 0) {
                sweep(System.nanoTime());
            }
        }
        slot.lapsesAt = lapsesAt;
        return slot;
    }

    /**
     * The owner's slot for the key, made if it has none (or one for another key), kept for the owner's
     * {@code stay} in the backend's queue plus {@link #STAY_SLACK}: an owner that stops calling is not waited
     * for longer than its queue entry lasts. Call it before the backend step that may queue the owner, with the
     * {@code stay} that step is given.
     *
     * @param owner the queued owner
     * @param key   the key, as the SPI names it
     * @param tag   the key as the backend's grant messages name it (the key itself will do)
     * @param stay  the owner's stay in the queue, as {@code acquireOrQueue} got it (capped at {@link Leases#MAX})
     * @return the slot
     */
    public Slot expect(String owner, String key, String tag, Duration stay) {
        return expect(owner, key, tag, System.nanoTime() + Leases.toNanos(stay) + STAY_SLACK.toNanos());
    }

    /**
     * The owner's slot.
     *
     * @param owner the owner
     * @return its slot, or {@code null}
     */
    public @Nullable Slot slotOf(String owner) {
        return byOwner.get(owner);
    }

    /**
     * The owner expects no grant any more (it holds the key, or left the queue).
     *
     * @param owner the owner
     */
    public void forget(String owner) {
        byOwner.remove(owner);
    }

    /**
     * Hands a grant to the owner's slot and wakes its sleeper; ignored when the owner has no slot for that key.
     *
     * @param tag         the key as the grant message names it
     * @param owner       the owner the key was handed to
     * @param token       its fencing token
     * @param leaseMillis the lease the hand-off gave, from when it ran
     * @return whether a slot took the grant
     */
    public boolean deliver(String tag, String owner, long token, long leaseMillis) {
        Slot slot = byOwner.get(owner);
        if (slot == null || !slot.tag.equals(tag)) {
            return false;
        }
        return deliver(slot, new AcquireResult.Acquired(Map.of(slot.key, token), Instant.now().plusMillis(leaseMillis)));
    }

    /**
     * Hands a grant the backend described in full to the owner's slot and wakes its sleeper; ignored when the
     * owner has no slot for that key.
     *
     * @param tag   the key as the grant message names it
     * @param owner the owner the key was handed to
     * @param grant its tokens and expiry
     * @return whether a slot took the grant
     */
    public boolean deliver(String tag, String owner, AcquireResult.Acquired grant) {
        Slot slot = byOwner.get(owner);
        if (slot == null || !slot.tag.equals(tag)) {
            return false;
        }
        return deliver(slot, grant);
    }

    private static boolean deliver(Slot slot, AcquireResult.Acquired grant) {
        slot.grant = grant;
        Thread sleeper = slot.sleeper;
        if (sleeper != null) {
            LockSupport.unpark(sleeper);
        }
        return true;
    }

    /**
     * Sleeps on the slot until its grant came, {@code deadline} ({@link System#nanoTime()}) passed, the key's
     * current lease ran out (see {@link Slot#holderLapsesAt}), or {@code closed} says so.
     *
     * @param slot     the owner's slot
     * @param deadline a {@link System#nanoTime()} value
     * @param closed   whether the provider closed
     * @return the grant, or {@code null}
     * @throws InterruptedException if the thread is interrupted
     */
    public static AcquireResult.@Nullable Acquired await(Slot slot, long deadline, BooleanSupplier closed)
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

    /**
     * The whole of a provider's {@code awaitGrant}: sleeps on the owner's slot for the key (made now if the owner
     * has none, say after a spurious return), until the grant, {@code deadline}, the holder's lapse or
     * {@code closed}; a grant taken here is forgotten, so the owner's slot is gone.
     *
     * @param owner    the queued owner
     * @param key      the key, as the SPI names it
     * @param tag      the key as the backend's grant messages name it
     * @param deadline a {@link System#nanoTime()} value
     * @param closed   whether the provider closed
     * @return the grant, or {@code null}
     * @throws InterruptedException if the thread is interrupted
     */
    public AcquireResult.@Nullable Acquired awaitGrant(String owner, String key, String tag, long deadline,
            BooleanSupplier closed) throws InterruptedException {
        Slot slot = byOwner.get(owner);
        if (slot == null || !slot.key.equals(key)) {
            slot = expect(owner, key, tag, deadline);
        }
        AcquireResult.Acquired grant = await(slot, deadline, closed);
        if (grant != null) {
            forget(owner);
        }
        return grant;
    }

    /** Wakes every sleeper without a grant (the provider closes, or its grant messages may have been lost). */
    public void wakeEveryone() {
        for (Slot slot : byOwner.values()) {
            Thread sleeper = slot.sleeper;
            if (sleeper != null) {
                LockSupport.unpark(sleeper);
            }
        }
    }

    /**
     * How many owners expect a grant now.
     *
     * @return the number of slots
     */
    public int expected() {
        return byOwner.size();
    }

    private void sweep(long now) {
        byOwner.values().removeIf(slot -> slot.sleeper == null && now - slot.lapsesAt > 0);
    }
}
