package dev.locking.spi.support;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * The threads of one provider that wait in {@link dev.locking.spi.LockingProvider#awaitRelease} for keys,
 * and the one place where a release notification from the backend wakes them.
 *
 * <p>A provider registers the caller's keys, looks at the backend once (a key may have been freed before the
 * registration), then sleeps on the {@link Waiter} until woken or its time is up. Whatever tells the
 * provider that a key was freed (a Redis channel, a Hazelcast entry listener, a ZooKeeper watch, a PostgreSQL {@code NOTIFY},
 * the provider's own release in memory) calls {@link #wakeFirst} or {@link #wakeAll} with the key. A wake-up
 * that arrives between {@code register} and {@code await} is kept, so the look at the backend and the
 * notification cannot miss each other. The core calls {@code tryAcquire} again after every return, so an
 * early return is always safe.
 *
 * <h2>Slices: one policy, in the core</h2>
 * The core never asks a provider to wait longer than its re-check slice (2 s), so a lost notification costs
 * at most that. {@link #KeyWaiters()} adds no slice of its own: the caller's {@code maxWait} is the bound. A
 * provider whose own notifications need a shorter bound (one that knows the lease of the key it waits for,
 * say) passes it to {@link Waiter#await(long)}, or builds the registry with {@link #KeyWaiters(Duration)}.
 *
 * <pre>{@code
 * private final KeyWaiters waiters = new KeyWaiters();
 *
 * public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
 *     try (KeyWaiters.Waiter waiter = waiters.register(keys)) {
 *         if (backend.anyHeld(keys)) {          // look after registering, never before
 *             waiter.await(maxWait);            // woken by a release, or maxWait passed
 *         }
 *         waiter.used();                        // the core tries the keys next: keep the wake-up
 *     }
 * }
 *
 * // the backend's release notification
 * void onReleased(String key) {
 *     waiters.wakeFirst(key);
 * }
 * }</pre>
 *
 * <h2>Waking one or all</h2>
 * {@link #wakeFirst} wakes the longest waiter of the key that is not woken yet: after a release at most one
 * waiter can take the key, so waking all of them only sends a herd to the backend. If that waiter leaves
 * without trying the key (interrupted, failed, the provider closed: {@link Waiter#close} without
 * {@link Waiter#used}), its wake-up passes on to the next waiter of each of its keys. If it tries and
 * loses to another process, the winner's release wakes the next one. {@link #wakeAll} suits notifications
 * that say "something changed" rather than "freed" (a watch that fires on any change).
 *
 * <h2>Concurrency</h2>
 * Safe for concurrent use. The queue of a key is read and changed only inside {@link ConcurrentHashMap}'s
 * {@code compute} of that key, so no empty queue stays behind and no registration is lost. A waiter's
 * woken flag moves once from false to true by compare-and-set, so a wake-up is used by exactly one waiter;
 * notification threads never block.
 *
 * @since 0.2.0
 */
public final class KeyWaiters {


    private final ConcurrentHashMap<String, ArrayDeque<Waiter>> byKey = new ConcurrentHashMap<>();
    private final AtomicInteger sleeping = new AtomicInteger();
    private final long sliceNanos;

    /** A registry whose waiters sleep as long as their caller allows (the core bounds that by its slice). */
    public KeyWaiters() {
        this(Leases.MAX);
    }

    /**
     * A registry whose waiters sleep at most {@code slice} at a time, however long the caller may wait.
     *
     * @param slice the longest single sleep, positive: how late a lost notification is made up for
     * @throws IllegalArgumentException if the slice is not positive
     */
    public KeyWaiters(Duration slice) {
        Objects.requireNonNull(slice, "slice");
        if (slice.isZero() || slice.isNegative()) {
            throw new IllegalArgumentException("slice must be positive, got " + slice);
        }
        this.sliceNanos = Leases.toNanos(slice);
    }

    /**
     * Adds a waiter for the keys, behind those already waiting for them. Close it when done, in a
     * {@code finally} or try-with-resources.
     *
     * @param keys the keys, in the provider's own naming (any string that its notifications name)
     * @return the waiter
     */
    public Waiter register(Collection<String> keys) {
        Waiter waiter = new Waiter(List.copyOf(keys));
        for (String key : waiter.keys) {
            byKey.compute(key, (k, queue) -> {
                ArrayDeque<Waiter> q = queue != null ? queue : new ArrayDeque<>(4);
                q.addLast(waiter);
                return q;
            });
        }
        return waiter;
    }

    /**
     * Wakes the longest waiter of the key that is not woken yet, if any.
     *
     * @param key a key as registered
     * @return whether a waiter was woken
     */
    public boolean wakeFirst(String key) {
        return wakeNext(key) != null;
    }

    /**
     * Like {@link #wakeFirst}, and says which thread it woke: a backend in this process can then keep the
     * freed key for that thread for a moment, so that the longest waiter takes it and a thread that releases
     * and retakes the key in a loop cannot starve it.
     *
     * @param key a key as registered
     * @return the thread of the waiter woken, or {@code null} if none was
     */
    public @Nullable Thread wakeNext(String key) {
        @Nullable Thread[] woke = new Thread[1];
        byKey.computeIfPresent(key, (k, queue) -> {
            Waiter w = wakeFirstOf(queue);
            woke[0] = w == null ? null : w.thread;
            return queue;
        });
        return woke[0];
    }

    /**
     * Wakes every waiter of the key.
     *
     * @param key a key as registered
     */
    public void wakeAll(String key) {
        byKey.computeIfPresent(key, (k, queue) -> {
            queue.forEach(Waiter::wake);
            return queue;
        });
    }

    /** Wakes every waiter of every key: the backend was cleared, the connection came back, or the provider closes. */
    public void wakeEveryone() {
        for (String key : byKey.keySet()) {
            wakeAll(key);
        }
    }

    /**
     * Whether any waiter is registered for the key, so a provider can skip a notification nobody needs.
     *
     * @param key a key as registered
     * @return whether someone waits for it
     */
    public boolean isWaitedFor(String key) {
        return byKey.containsKey(key);
    }

    /**
     * How many keys have waiters now.
     *
     * @return the number of keys
     */
    public int waitingKeys() {
        return byKey.size();
    }

    /**
     * How many waiters are asleep in {@link Waiter#await} now (tests wait for this before releasing).
     *
     * @return the number of sleeping waiters
     */
    public int sleepingWaiters() {
        return sleeping.get();
    }

    private static @Nullable Waiter wakeFirstOf(ArrayDeque<Waiter> queue) {
        for (Waiter w : queue) {
            if (w.wake()) {
                return w;
            }
        }
        return null;
    }

    /**
     * One waiting call: registered on its keys until closed.
     *
     * <p>Concurrency: {@link #await} and {@link #close} are called by the thread that registered; any
     * thread may wake it.
     */
    public final class Waiter implements AutoCloseable {
        private final List<String> keys;
        private final AtomicBoolean woken = new AtomicBoolean();
        private final Thread thread = Thread.currentThread();
        private volatile boolean used;
        private boolean closed;

        private Waiter(List<String> keys) {
            this.keys = keys;
        }

        /**
         * The keys this waiter waits for.
         *
         * @return the keys, as registered
         */
        public List<String> keys() {
            return keys;
        }

        /**
         * Whether a notification woke this waiter.
         *
         * @return whether it was woken
         */
        public boolean isWoken() {
            return woken.get();
        }

        /**
         * Sleeps until woken, {@code maxWait} passed or one slice passed, whichever is first; returns at once
         * if woken already.
         *
         * @param maxWait the longest the caller may wait
         * @return whether it was woken (false: the time ran out)
         * @throws InterruptedException if the thread is interrupted
         */
        public boolean await(Duration maxWait) throws InterruptedException {
            return await(maxWait.isNegative() || maxWait.isZero() ? 0 : Leases.toNanos(maxWait));
        }

        /**
         * Like {@link #await(Duration)}, with the time in nanoseconds.
         *
         * @param maxWaitNanos the longest the caller may wait
         * @return whether it was woken
         * @throws InterruptedException if the thread is interrupted
         */
        public boolean await(long maxWaitNanos) throws InterruptedException {
            long deadline = System.nanoTime() + Math.min(maxWaitNanos, sliceNanos);
            sleeping.incrementAndGet();
            try {
                while (!woken.get()) {
                    if (Thread.interrupted()) {
                        throw new InterruptedException();
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    LockSupport.parkNanos(this, left);
                }
                return true;
            } finally {
                sleeping.decrementAndGet();
            }
        }

        /**
         * The end of a provider's {@code awaitRelease}, after its look at the backend: if a key is held, sleeps until
         * woken, or {@code sliceNanos}, or what is left of {@code maxWait} since {@code startNanos}, whichever is
         * first; then, unless the provider closed, marks the wait {@link #used} (the core tries the keys next).
         *
         * @param held       whether the look found a key held (else the caller tries at once)
         * @param sliceNanos the longest sleep the provider allows (its slice, or a key's remaining lease)
         * @param startNanos when {@code awaitRelease} started, a {@link System#nanoTime()} value
         * @param maxWait    the caller's longest wait
         * @param closed     whether the provider closed (then it neither sleeps nor marks the wait used)
         * @throws InterruptedException if the thread is interrupted
         */
        public void sleepAfterLook(boolean held, long sliceNanos, long startNanos, Duration maxWait,
                BooleanSupplier closed) throws InterruptedException {
            if (held) {
                long remaining = Math.min(sliceNanos, Leases.toNanos(maxWait) - (System.nanoTime() - startNanos));
                if (remaining > 0 && !closed.getAsBoolean()) {
                    await(remaining);
                }
            }
            if (!closed.getAsBoolean()) {
                used();
            }
        }

        /**
         * Says that the caller will try its keys after this wait (the core does after every normal return of
         * {@code awaitRelease}), so a wake-up it got is not passed on when it closes.
         */
        public void used() {
            used = true;
        }

        /**
         * Removes this waiter from its keys. A waiter woken by {@link KeyWaiters#wakeFirst} that was not
         * {@link #used} passes its wake-up on to the next waiter of each key. Idempotent.
         */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            boolean passOn = !used && woken.get();
            for (String key : keys) {
                byKey.computeIfPresent(key, (k, queue) -> {
                    queue.remove(this);
                    if (passOn) {
                        wakeFirstOf(queue);
                    }
                    return queue.isEmpty() ? null : queue;
                });
            }
        }

        /** Wakes this waiter; false if it was woken before, so the wake-up is not used up here. */
        private boolean wake() {
            if (!woken.compareAndSet(false, true)) {
                return false;
            }
            LockSupport.unpark(thread);
            return true;
        }
    }
}
