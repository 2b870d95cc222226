package dev.locking.bench.jmh;

import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code lp_memory} through the SPI (no core in between), next to the {@code ConcurrentHashMap} of
 * {@code ReentrantLock}s a user might write instead.
 *
 * <p>Concurrency: one state for all of JMH's threads; the provider is set before any benchmark method runs,
 * and the map of {@code ReentrantLock}s is a {@code ConcurrentHashMap}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MemoryProviderBenchmarks {
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final List<String> ONE = List.of("order:1");
    private static final List<String> THREE = List.of("order:1", "order:2", "order:3");

    @SuppressWarnings("NullAway.Init") // set in setUp, before any benchmark method runs
    private LockingProvider provider;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    /** Creates the constructor JMH calls. */
    public MemoryProviderBenchmarks() {
        // state is made in setUp
    }

    /** Per-thread state: a counter for fresh keys and a held key for the conflict case. */
    @State(Scope.Thread)
    public static class PerThread {
        long next;
        final String prefix = "t" + Thread.currentThread().getId() + ":";

        /** Creates the constructor JMH calls. */
        public PerThread() {
            // nothing else
        }
    }

    /** A new provider, with one key held by someone else for the conflict case. */
    @Setup(Level.Trial)
    public void setUp() {
        provider = MemoryProviderFactory.newProvider("lp_memory");
        provider.tryAcquire(List.of("held"), "someone-else", null);
    }

    /** Closes the provider. */
    @TearDown(Level.Trial)
    public void tearDown() {
        provider.close();
    }

    /**
     * Take and release one key with an owner and a lease.
     *
     * @return whether it was released
     */
    @Benchmark
    public boolean tryAcquireRelease() {
        provider.tryAcquire(ONE, "bench", LEASE);
        return provider.release(ONE, "bench");
    }

    /**
     * Take and release a fresh key each time.
     *
     * @param state the thread's key counter
     * @return whether it was released
     */
    @Benchmark
    public boolean tryAcquireReleaseFreshKey(PerThread state) {
        List<String> key = List.of(state.prefix + state.next++);
        provider.tryAcquire(key, "bench", LEASE);
        return provider.release(key, "bench");
    }

    /**
     * Take and release three keys together.
     *
     * @return whether they were released
     */
    @Benchmark
    public boolean tryAcquireReleaseThreeKeys() {
        provider.tryAcquire(THREE, "bench", LEASE);
        return provider.release(THREE, "bench");
    }

    /**
     * A conflict: the key is held by another owner.
     *
     * @return the conflict
     */
    @Benchmark
    public AcquireResult tryAcquireConflict() {
        return provider.tryAcquire(List.of("held"), "bench", LEASE);
    }

    /**
     * Two threads taking and releasing fresh keys of their own.
     *
     * @param state the thread's key counter
     * @return whether it was released
     */
    @Benchmark
    @Threads(2)
    public boolean tryAcquireReleaseFreshKeyTwoThreads(PerThread state) {
        return tryAcquireReleaseFreshKey(state);
    }

    /**
     * The peer: {@code computeIfAbsent}, {@code lock}, {@code unlock}, {@code remove} of a fresh key.
     *
     * @param state the thread's key counter
     * @return whether the lock was removed
     */
    @Benchmark
    public boolean reentrantLockFreshKey(PerThread state) {
        String key = state.prefix + state.next++;
        ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock());
        lock.lock();
        try {
            return locks.remove(key, lock);
        } finally {
            lock.unlock();
        }
    }
}
