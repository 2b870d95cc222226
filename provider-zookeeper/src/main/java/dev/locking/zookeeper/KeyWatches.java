package dev.locking.zookeeper;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.jspecify.annotations.Nullable;

/**
 * Wakes local waiters when a lock node changes, with one ZooKeeper watch per key however many threads of
 * this provider wait for it.
 *
 * <p>Concurrency: {@link #watches} maps a lock node's path to the {@link Watch} currently armed (or being
 * armed) on it. A watch is armed by the first waiter that finds it unarmed, while holding the watch's
 * monitor, with a {@code getData} that leaves a data watch on the node; later waiters block on that
 * monitor for the length of that one call and then share the result. ZooKeeper fires a data watch once,
 * on the node's deletion or next change (an {@code extend} is a change: its waiters wake, find the key
 * still held and wait again, a spurious but harmless wake-up), or when the connection changes state. The
 * watch then completes its future, which wakes every waiter at once, and leaves the map, so the next
 * waiter arms a new one. {@link #wakeAll()} completes every watch (session lost, reconnected, closed).
 * A completed watch is never re-armed.
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

    private final ConcurrentHashMap<String, Watch> watches = new ConcurrentHashMap<>();

    /**
     * Waits until one of the nodes changes, one of the leases read lapses, or {@code maxWaitMillis}
     * passed, whichever is first.
     *
     * @param paths         lock node paths
     * @param maxWaitMillis the longest wait, positive
     * @param nowMillis     the wall clock the leases are compared with
     * @param arm           reads a node and leaves a watch
     * @throws InterruptedException if interrupted while waiting or arming
     * @throws Exception            what {@code arm} threw
     */
    void await(List<String> paths, long maxWaitMillis, long nowMillis, Arm arm) throws Exception {
        long wait = maxWaitMillis;
        List<CompletableFuture<Void>> fired = new ArrayList<>(paths.size());
        for (String path : paths) {
            Watch w = armed(path, arm);
            if (w == null) {
                return; // no node: the key is free
            }
            long left = w.expiresAtMillis() - nowMillis;
            if (left <= 0) {
                return; // the lease has lapsed: the key is free
            }
            wait = Math.min(wait, left);
            fired.add(w.fired);
        }
        try {
            CompletableFuture.anyOf(fired.toArray(new CompletableFuture<?>[0])).get(wait, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // The slice ended: the caller checks the keys again.
        }
    }

    /** The armed watch on {@code path}, or {@code null} when there is no node. */
    private @Nullable Watch armed(String path, Arm arm) throws Exception {
        while (true) {
            Watch w = watches.computeIfAbsent(path, p -> new Watch(p, this));
            synchronized (w) {
                if (w.fired.isDone()) {
                    watches.remove(path, w);
                    if (w.armed) {
                        return w; // fired while we took the monitor: report it, the caller returns at once
                    }
                    continue; // failed or was woken before being armed: start over with a new one
                }
                if (w.armed) {
                    return w;
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
                    return null;
                }
                w.expiresAtMillis = data.expiresAtMillis();
                w.armed = true;
                return w;
            }
        }
    }

    /** Wakes every waiter; the next wait arms new watches. */
    void wakeAll() {
        for (Watch w : watches.values()) {
            w.fire();
        }
    }

    /** How many watches are armed or being armed (for tests). */
    int size() {
        return watches.size();
    }

    /** One data watch on one lock node, shared by the provider's waiters on that key. */
    static final class Watch implements Watcher {
        private final String path;
        private final KeyWatches owner;
        final CompletableFuture<Void> fired = new CompletableFuture<>();
        /** True once the data watch is on the node. */
        @GuardedBy("this")
        boolean armed;
        /** The expiry read when arming. */
        @GuardedBy("this")
        long expiresAtMillis = LockData.NEVER;

        Watch(String path, KeyWatches owner) {
            this.path = path;
            this.owner = owner;
        }

        synchronized long expiresAtMillis() {
            return expiresAtMillis;
        }

        @Override
        public void process(WatchedEvent event) {
            fire();
        }

        void fire() {
            owner.watches.remove(path, this);
            fired.complete(null);
        }
    }
}
