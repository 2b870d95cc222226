package dev.locking.spring.integration;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads taking one key through alternating registries, counting inside the lock: with mutual exclusion the counter
 * is exact and no thread ever finds another inside.
 *
 * @param counter  the final count
 * @param overlaps how many times a thread found another inside
 */
record Contention(int counter, int overlaps) {

    static Contention run(ExecutorService threads, List<LockingLockRegistry> registries, Object key, int threadCount,
            int perThread) throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        int[] counter = {0};
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            LockingLockRegistry registry = registries.get(t % registries.size());
            done.add(threads.submit(() -> {
                for (int i = 0; i < perThread; i++) {
                    LockingLock lock = registry.obtain(key);
                    lock.lock();
                    try {
                        if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        counter[0]++;
                        inside.decrementAndGet();
                    } finally {
                        lock.unlock();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(120, TimeUnit.SECONDS);
        }
        return new Contention(counter[0], overlaps.get());
    }
}
