package dev.locking.zookeeper;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.locking.spi.support.KeyWaiters;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.jspecify.annotations.Nullable;

/**
 * The ZooKeeper side of waiting: one data watch per lock node, shared by every waiter of this provider on
 * that key, whose firing wakes them all through the toolkit's {@link KeyWaiters} (keyed by lock path).
 *
 * <p>A waiter registers first and arms (or finds armed) the watches of its keys after, so a watch that fires
 * in between still wakes it. ZooKeeper fires a data watch once, on the node's deletion or next change (an
 * {@code extend} is a change: its waiters wake, find the key still held and wait again, a spurious but
 * harmless wake-up), or when the connection changes state; the watch then leaves the map, so the next waiter
 * arms a new one. A wait also ends when the lease read while arming lapses, and after at most one slice of
 * {@link KeyWaiters}.
 *
 * <p>Concurrency: {@link #watches} maps a lock path to the {@link Watch} armed (or being armed) on it. A watch
 * is armed by the first waiter that finds it unarmed, while holding the watch's monitor, with a
 * {@code getData} that leaves the data watch on the node; later waiters block on that monitor for the length
 * of that one call and then share the result. A watch's {@code fired} flag moves once from false to true
 * (ZooKeeper's event thread, or {@link #wakeEveryone}); a fired watch is never armed again. The waiters'
 * registry is the thread-safe {@link KeyWaiters}.
 */
final class KeyWatches {

    /** Arms a data watch on a node and reads it. */
    @FunctionalInterface
    interface Arm {
        /**
         * Reads the node at {@code path} and leaves {@code watcher} on it.
         *
         * @return the node's data, or {@code null} when there is no node (then no watch was left)
         */
        @Nullable LockData arm(String path, Watcher watcher) throws Exception;
    }

    /** What {@link #armed} answers for a key without a node: it is free. */
    private static final long FREE = Long.MIN_VALUE;

    private final KeyWaiters waiters = new KeyWaiters();
    private final ConcurrentHashMap<String, Watch> watches = new ConcurrentHashMap<>();

    /**
     * Waits until one of the nodes changes, one of the leases read lapses, {@code maxWaitNanos} passed or
     * one slice of {@link KeyWaiters} passed, whichever is first.
     *
     * @param paths        lock node paths
     * @param maxWaitNanos the longest wait, positive
     * @param nowMillis    the wall clock the leases are compared with
     * @param arm          reads a node and leaves a watch
     * @throws InterruptedException if interrupted while waiting or arming
     * @throws Exception            what {@code arm} threw
     */
    void await(List<String> paths, long maxWaitNanos, long nowMillis, Arm arm) throws Exception {
        try (KeyWaiters.Waiter waiter = waiters.register(paths)) {
            long waitNanos = maxWaitNanos;
            for (String path : paths) {
                long expiresAtMillis = armed(path, arm);
                long leftMillis = expiresAtMillis == FREE ? 0 : expiresAtMillis - nowMillis;
                if (leftMillis <= 0) {
                    waiter.used();
                    return; // no node, or the lease has lapsed: the key is free
                }
                waitNanos = Math.min(waitNanos, TimeUnit.MILLISECONDS.toNanos(leftMillis));
            }
            waiter.await(waitNanos);
            waiter.used(); // the core tries the keys next
        }
    }

    /** The lease expiry read by the watch armed on {@code path}, or {@link #FREE} when there is no node. */
    private long armed(String path, Arm arm) throws Exception {
        while (true) {
            Watch w = watches.computeIfAbsent(path, Watch::new);
            synchronized (w) {
                if (w.armed) {
                    return w.expiresAtMillis; // if it fired meanwhile, the waiter was woken: it returns at once
                }
                if (w.fired.get()) {
                    continue; // woken or failed before being armed: start over with a new one
                }
                LockData data;
                try {
                    data = arm.arm(path, w);
                } catch (Exception e) {
                    w.fire();
                    throw e;
                }
                if (data == null) {
                    w.fire();
                    return FREE;
                }
                w.expiresAtMillis = data.expiresAtMillis();
                w.armed = true;
                return w.expiresAtMillis;
            }
        }
    }

    /** Drops every watch and wakes every waiter (session lost, reconnected, provider closed). */
    void wakeEveryone() {
        for (Watch w : watches.values()) {
            w.fire();
        }
        waiters.wakeEveryone();
    }

    /** One data watch on one lock node, shared by the provider's waiters on that key. */
    private final class Watch implements Watcher {
        private final String path;
        private final AtomicBoolean fired = new AtomicBoolean();
        /** True once the data watch is on the node. */
        @GuardedBy("this")
        private boolean armed;
        /** The lease expiry read when arming. */
        @GuardedBy("this")
        private long expiresAtMillis = LockData.NEVER;

        Watch(String path) {
            this.path = path;
        }

        @Override
        public void process(WatchedEvent event) {
            fire();
        }

        /** Leaves the map and wakes every waiter of the key; once. */
        void fire() {
            if (fired.compareAndSet(false, true)) {
                watches.remove(path, this);
                waiters.wakeAll(path);
            }
        }
    }
}
