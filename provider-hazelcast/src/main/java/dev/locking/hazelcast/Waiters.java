package dev.locking.hazelcast;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The threads of this provider instance waiting in {@code awaitRelease}, by key.
 *
 * <p>Concurrency: the registry is a concurrent map from key to a concurrent set of waiters; a set is
 * created and dropped inside {@code compute}, so registering and unregistering never lose a waiter. A
 * waiter is a one-shot latch: a wake-up that comes between registering and waiting is kept, so a release
 * notified while the caller still probes the backend is not missed. The entry listener's threads call
 * {@link #wake} and {@link #wakeAll}; they never block.
 */
final class Waiters {

    private final Map<String, Set<Waiter>> byKey = new ConcurrentHashMap<>();

    /** One waiting call. */
    static final class Waiter {
        private final CountDownLatch woken = new CountDownLatch(1);
        private final List<String> keys;

        private Waiter(List<String> keys) {
            this.keys = keys;
        }

        /**
         * Waits until woken or the time passes.
         *
         * @return whether it was woken
         * @throws InterruptedException if the thread is interrupted
         */
        boolean await(long millis) throws InterruptedException {
            return woken.await(millis, TimeUnit.MILLISECONDS);
        }

        void wake() {
            woken.countDown();
        }
    }

    /** Registers a waiter on every key; unregister it in a {@code finally}. */
    Waiter register(List<String> keys) {
        Waiter waiter = new Waiter(List.copyOf(keys));
        for (String key : waiter.keys) {
            byKey.compute(key, (k, set) -> {
                Set<Waiter> waiters = set == null ? ConcurrentHashMap.newKeySet() : set;
                waiters.add(waiter);
                return waiters;
            });
        }
        return waiter;
    }

    void unregister(Waiter waiter) {
        for (String key : waiter.keys) {
            byKey.computeIfPresent(key, (k, set) -> {
                set.remove(waiter);
                return set.isEmpty() ? null : set;
            });
        }
    }

    /** Wakes the waiters of one key. */
    void wake(String key) {
        Set<Waiter> waiters = byKey.get(key);
        if (waiters != null) {
            waiters.forEach(Waiter::wake);
        }
    }

    /** Wakes every waiter (the map was cleared, or the provider closes). */
    void wakeAll() {
        byKey.values().forEach(set -> set.forEach(Waiter::wake));
    }

    /** Whether anyone waits; for tests. */
    boolean isEmpty() {
        return byKey.isEmpty();
    }
}
