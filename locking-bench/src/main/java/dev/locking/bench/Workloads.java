package dev.locking.bench;

import dev.locking.api.AcquireOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;
import org.HdrHistogram.Histogram;

/**
 * The six workloads of the bench. Each measures one contender and returns its result; keys carry the run,
 * the workload and the contender, so no two measurements share a key.
 *
 * <p>Concurrency: a workload's threads share only atomic counters (and the contender, which is safe for
 * concurrent use); the key sequence is atomic.
 */
final class Workloads {
    static final int W2_THREADS = 8;
    static final int W3_THREADS = 8;
    static final int W4_THREADS = 4;
    static final int W4_KEYS = 16;
    static final int W4_KEYS_PER_CALL = 3;
    static final int W5_OWNED = 10;
    static final int W5_OTHER_OWNERS = 100;
    static final Duration W5_LEASE = Duration.ofMinutes(30);

    private static final AtomicLong SEQUENCE = new AtomicLong();

    private Workloads() {}

    /** A key prefix no other measurement of this JVM uses. */
    static String prefix(int run, String workload) {
        return "r" + run + "-" + workload + "-" + SEQUENCE.incrementAndGet() + "-";
    }

    /** W1 (one thread) and W2 (eight threads): take and release a fresh key each time. */
    static Result cycles(int run, String workload, int threads, String backend, Contender c, Runner.Timing timing) {
        String prefix = prefix(run, workload);
        String[] threadPrefix = new String[threads];
        for (int t = 0; t < threads; t++) {
            threadPrefix[t] = prefix + t + "-";
        }
        Runner.Measurement m = Runner.run(workload + "-" + c.name(), threads, timing, (thread, i, giveUp) -> {
            String key = threadPrefix[thread] + i;
            long t0 = System.nanoTime();
            c.cycle(key);
            return System.nanoTime() - t0;
        });
        return Result.of(run, workload, backend, c.name(), c.ours(), "", threads, m, 0, "");
    }

    /**
     * W3: eight threads on one key, each entry through {@link Contender#locked}; the latency is the wait
     * before entering. Counts overlaps and checks an unsynchronised counter against the entries.
     */
    static Result oneKey(int run, String backend, Contender c, Runner.Timing timing) {
        List<String> key = List.of(prefix(run, "W3") + "hot");
        AtomicInteger inside = new AtomicInteger();
        LongAdder overlaps = new LongAdder();
        AtomicLong entries = new AtomicLong();
        long[] counter = new long[1];
        long[] entered = new long[W3_THREADS];
        Runner.Measurement m = Runner.run("W3-" + c.name(), W3_THREADS, timing, (thread, i, giveUp) -> {
            long t0 = System.nanoTime();
            c.locked(key, () -> {
                entered[thread] = System.nanoTime();
                if (inside.incrementAndGet() != 1) {
                    overlaps.increment();
                }
                counter[0]++;
                entries.incrementAndGet();
                inside.decrementAndGet();
            }, giveUp);
            return entered[thread] - t0;
        });
        long lost = entries.get() - counter[0];
        String note = lost == 0 ? "" : lost + " counter updates lost";
        return Result.of(run, "W3", backend, c.name(), c.ours(), "", W3_THREADS, m,
                overlaps.sum() + Math.abs(lost), note);
    }

    /**
     * W4: four threads, each taking 3 random keys of 16 together, in the caller's (random) order or sorted;
     * the latency is the wait before entering. Counts overlaps per key.
     */
    static Result multiKey(int run, String backend, Contender c, boolean sorted, Runner.Timing timing) {
        AtomicIntegerArray inside = new AtomicIntegerArray(W4_KEYS);
        LongAdder overlaps = new LongAdder();
        Runner.Measurement m = Runner.run("W4-" + c.name(), W4_THREADS, timing, multiKeyStep(
                keys16(prefix(run, "W4")), W4_THREADS, c, sorted, k -> inside.incrementAndGet(k) != 1,
                inside::decrementAndGet, overlaps, () -> { }));
        String name = c.ours() ? c.name() : c.multiName();
        return Result.of(run, "W4", backend, name, c.ours(), sorted ? "sorted" : "caller order", W4_THREADS, m,
                overlaps.sum(), "");
    }

    /** W4's (and W8's) 16 keys under a prefix. */
    static String[] keys16(String prefix) {
        String[] keys = new String[W4_KEYS];
        for (int k = 0; k < W4_KEYS; k++) {
            keys[k] = prefix + String.format(java.util.Locale.ROOT, "k%02d", k);
        }
        return keys;
    }

    /**
     * The step of W4 and W8: 3 random keys of {@code keys}, sorted or in the caller's (random) order, taken
     * together through {@link Contender#locked}; inside, each key is entered ({@code enter} says whether
     * someone else was inside: an overlap) and left again. Returns the wait before entering.
     *
     * @param entry run once per entry, inside the section
     */
    static Runner.Step multiKeyStep(String[] keys, int threads, Contender c, boolean sorted, IntPredicate enter,
            IntConsumer leave, LongAdder overlaps, Runnable entry) {
        long[] entered = new long[threads];
        return (thread, i, giveUp) -> {
            int[] picked = pick(ThreadLocalRandom.current());
            if (sorted) {
                Arrays.sort(picked);
            }
            List<String> chosen = List.of(keys[picked[0]], keys[picked[1]], keys[picked[2]]);
            long t0 = System.nanoTime();
            c.locked(chosen, () -> {
                entered[thread] = System.nanoTime();
                for (int k : picked) {
                    if (enter.test(k)) {
                        overlaps.increment();
                    }
                }
                entry.run();
                for (int k : picked) {
                    leave.accept(k);
                }
            }, giveUp);
            return entered[thread] - t0;
        };
    }

    /** Three distinct indexes of {@link #W4_KEYS}, in random order. */
    static int[] pick(ThreadLocalRandom random) {
        int a = random.nextInt(W4_KEYS);
        int b;
        do {
            b = random.nextInt(W4_KEYS);
        } while (b == a);
        int c;
        do {
            c = random.nextInt(W4_KEYS);
        } while (c == a || c == b);
        return new int[] {a, b, c};
    }

    /**
     * W5: {@code releaseAll(owner)} for an owner with 10 locks while {@code others} locks of 100 other owners
     * are held; the latency of each {@code releaseAll} is recorded.
     */
    static Result releaseAll(int run, LockingService locking, String providerId, int others, int warmupReps, int reps) {
        String prefix = prefix(run, "W5");
        int owners = Math.max(1, Math.min(W5_OTHER_OWNERS, others));
        int perOwner = others / owners;
        holdOthers(locking, providerId, prefix, owners, perOwner);
        String target = prefix + "target";
        AcquireOptions acquire = AcquireOptions.builder().provider(providerId).ownerId(target).expire(W5_LEASE).build();
        ReleaseAllOptions releaseAll = ReleaseAllOptions.builder().provider(providerId).ownerId(target).build();
        Histogram h = new Histogram(3);
        String note = "";
        try {
            for (int rep = 0; rep < warmupReps + reps; rep++) {
                List<String> mine = new ArrayList<>(W5_OWNED);
                for (int k = 0; k < W5_OWNED; k++) {
                    mine.add(prefix + "mine-" + rep + "-" + k);
                }
                locking.acquire(mine, acquire);
                long t0 = System.nanoTime();
                locking.releaseAll(releaseAll);
                long took = System.nanoTime() - t0;
                if (rep >= warmupReps) {
                    h.recordValue(took);
                }
                if (locking.inspect(mine.get(W5_OWNED - 1), providerId).isPresent()) {
                    throw new IllegalStateException("releaseAll(" + target + ") left " + mine.get(W5_OWNED - 1)
                            + " held on " + providerId);
                }
            }
            if (locking.inspect(otherKey(prefix, owners - 1, perOwner - 1), providerId).isEmpty()) {
                throw new IllegalStateException("W5's other locks are gone on " + providerId);
            }
        } finally {
            for (int o = 0; o < owners; o++) {
                locking.releaseAll(ReleaseAllOptions.builder().provider(providerId).ownerId(prefix + "other-" + o)
                        .build());
            }
        }
        return Result.figure(run, "W5", providerId, providerId, true, String.format(java.util.Locale.ROOT,
                "%,d other locks held", owners * perOwner), h, h.getValueAtPercentile(50) / 1e6, "ms", note);
    }

    private static String otherKey(String prefix, int owner, int k) {
        return prefix + "o" + owner + "-" + k;
    }

    /** Takes {@code owners * perOwner} locks, in calls of up to 500 keys, on a few threads. */
    private static void holdOthers(LockingService locking, String providerId, String prefix, int owners, int perOwner) {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int o = 0; o < owners; o++) {
                int owner = o;
                futures.add(pool.submit(() -> {
                    AcquireOptions options = AcquireOptions.builder().provider(providerId)
                            .ownerId(prefix + "other-" + owner).expire(W5_LEASE).build();
                    for (int from = 0; from < perOwner; from += 500) {
                        List<String> batch = new ArrayList<>();
                        for (int k = from; k < Math.min(perOwner, from + 500); k++) {
                            batch.add(otherKey(prefix, owner, k));
                        }
                        locking.acquire(batch, options);
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get(10, TimeUnit.MINUTES);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not take W5's other locks on " + providerId + ": " + e, e);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * W6 for {@code lp_memory}: the heap each held lock costs with {@code count} locks held (owner and
     * lease, as an application takes them), and what is left after they are all released. The keys are made
     * before the baseline, so their own strings do not count.
     */
    static List<Result> heap(int run, LockingService locking, int count) {
        String providerId = "lp_memory";
        String owner = "w6-" + run;
        String[] keys = keys(prefix(run, "W6"), count);
        AcquireOptions acquire = AcquireOptions.builder().provider(providerId).ownerId(owner).expire(W5_LEASE).build();
        ReleaseOptions release = ReleaseOptions.builder().provider(providerId).ownerId(owner).build();
        return measureHeap(run, providerId, true, count, keys, key -> locking.acquire(key, acquire), key -> {
            if (!locking.release(key, release)) {
                throw new IllegalStateException("W6: release of " + key + " returned false");
            }
        });
    }

    /** W6's peer: a {@code ConcurrentHashMap} of held {@code ReentrantLock}s, then unlocked and removed. */
    static List<Result> heapOfReentrantLocks(int run, int count) {
        String[] keys = keys(prefix(run, "W6"), count);
        ConcurrentHashMap<String, ReentrantLock> map = new ConcurrentHashMap<>();
        try {
            return measureHeap(run, "ConcurrentHashMap+ReentrantLock", false, count, keys, key -> {
                ReentrantLock lock = new ReentrantLock();
                lock.lock(); // held until it is removed: what W6 measures is held locks
                map.put(key, lock);
            }, key -> {
                ReentrantLock lock = map.remove(key);
                if (lock != null) {
                    lock.unlock();
                }
            });
        } finally {
            Reference.reachabilityFence(map);
        }
    }

    /**
     * Takes and releases every key once (so hash tables reach their size: a {@code ConcurrentHashMap} never
     * shrinks), then measures the live heap before, while every key is held, and after every key is
     * released again. The keys exist before the first reading, so their strings do not count.
     */
    private static List<Result> measureHeap(int run, String contender, boolean ours, int count, String[] keys,
            java.util.function.Consumer<String> take, java.util.function.Consumer<String> give) {
        try {
            long empty = usedHeapAfterGc();
            for (String key : keys) {
                take.accept(key);
            }
            for (String key : keys) {
                give.accept(key);
            }
            long base = usedHeapAfterGc();
            for (String key : keys) {
                take.accept(key);
            }
            long held = usedHeapAfterGc();
            for (String key : keys) {
                give.accept(key);
            }
            long after = usedHeapAfterGc();
            return heapResults(run, "lp_memory", contender, ours, count, empty, base, held, after);
        } finally {
            Reference.reachabilityFence(keys);
        }
    }

    /**
     * The heap per held lock counts from the empty state (so it includes the tables the locks need); what
     * is left after release counts from the state after the first round (so tables grown to size, which a
     * {@code ConcurrentHashMap} keeps, are not mistaken for leaked locks; the note gives their size).
     */
    private static List<Result> heapResults(int run, String backend, String contender, boolean ours, int count,
            long empty, long base, long held, long after) {
        long tables = base - empty;
        String n = String.format(java.util.Locale.ROOT, "%,d locks", count);
        return List.of(
                Result.figure(run, "W6", backend, contender, ours, "held, " + n, null, (held - empty) / (double) count,
                        "B/lock", ""),
                Result.figure(run, "W6", backend, contender, ours, "after release", null, (double) (after - base), "B",
                        String.format(java.util.Locale.ROOT, "vs. after a first round; tables grown by that round and kept: %,d B", tables)));
    }

    private static String[] keys(String prefix, int count) {
        String[] keys = new String[count];
        for (int i = 0; i < count; i++) {
            keys[i] = prefix + i;
        }
        return keys;
    }

    /**
     * The live heap: what the heap's memory pools held right after a full collection (their collection
     * usage), the smallest of a few collections. Unlike the current usage this leaves out whatever was
     * allocated since, such as the allocation buffers of running threads.
     */
    static long usedHeapAfterGc() {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            long used = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                MemoryUsage afterGc = pool.getType() == MemoryType.HEAP ? pool.getCollectionUsage() : null;
                if (afterGc != null) {
                    used += afterGc.getUsed();
                }
            }
            best = Math.min(best, used);
        }
        return best;
    }

    /** The order contenders run in: ours first on odd runs, last on even ones, so neither always goes first. */
    static List<Contender> order(int run, List<Contender> contenders) {
        List<Contender> list = new ArrayList<>(contenders);
        if (run % 2 == 0) {
            Collections.reverse(list);
        }
        return list;
    }
}
