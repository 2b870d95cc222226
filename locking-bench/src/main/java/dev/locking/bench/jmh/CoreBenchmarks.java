package dev.locking.bench.jmh;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseOptions;
import dev.locking.core.Locking;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The core's hot paths on {@code lp_memory}, one thread, nothing contended: what a call costs on top of the
 * provider (validation, options, the lease renewer's bookkeeping, the result records).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
    "-Dorg.slf4j.simpleLogger.log.dev.locking.core.ProviderSetup=error"})
public class CoreBenchmarks {
    private static final List<String> THREE_KEYS = List.of("order:3", "order:1", "order:2");

    @SuppressWarnings("NullAway.Init") // set in setUp, before any benchmark method runs
    private LockingService locking;
    private final ExecuteOptions execute = ExecuteOptions.builder().provider("lp_memory").build();
    private final AcquireOptions acquire = AcquireOptions.builder().provider("lp_memory").ownerId("bench")
            .expire(Duration.ofSeconds(30)).build();
    private final AcquireOptions acquireForever = AcquireOptions.builder().provider("lp_memory").ownerId("bench")
            .build();
    private final ReleaseOptions release = ReleaseOptions.builder().provider("lp_memory").ownerId("bench").build();
    private long next;

    /** Creates the constructor JMH calls. */
    public CoreBenchmarks() {
        // state is made in setUp
    }

    /** Builds a service whose default is {@code lp_memory}. */
    @Setup(Level.Trial)
    public void setUp() {
        locking = Locking.builder().defaultProvider("lp_memory").build();
    }

    /** Closes the service. */
    @TearDown(Level.Trial)
    public void tearDown() {
        locking.close();
    }

    /**
     * {@code execute} on one free key: validate, take with a lease, register with the renewer, run, release.
     *
     * @return the job's result
     */
    @Benchmark
    public Integer executeUncontended() {
        return locking.execute("order:1", lock -> 1, execute);
    }

    /**
     * {@code execute} on three keys given unsorted.
     *
     * @return the job's result
     */
    @Benchmark
    public Integer executeThreeKeys() {
        return locking.execute(THREE_KEYS, lock -> 3, execute);
    }

    /**
     * {@code acquire} with an owner and a lease, then {@code release}, on the same key.
     *
     * @return whether the release released
     */
    @Benchmark
    public boolean acquireRelease() {
        locking.acquire("order:1", acquire);
        return locking.release("order:1", release);
    }

    /**
     * {@code acquire} and {@code release} of a fresh key each time (W1's shape).
     *
     * @return whether the release released
     */
    @Benchmark
    public boolean acquireReleaseFreshKey() {
        String key = "order:" + next++;
        locking.acquire(key, acquire);
        return locking.release(key, release);
    }

    /**
     * {@code acquire} without a lease (no expiry to track), then {@code release}.
     *
     * @return whether the release released
     */
    @Benchmark
    public boolean acquireReleaseNoLease() {
        locking.acquire("order:1", acquireForever);
        return locking.release("order:1", release);
    }

    /**
     * Validation and sorting of three keys, then a release the provider answers with false (nothing held).
     *
     * @return false
     */
    @Benchmark
    public boolean validateThreeKeys() {
        return locking.release(THREE_KEYS, release);
    }

    /**
     * Validation that rejects a bad argument (an empty key) before the provider is asked.
     *
     * @param blackhole takes the exception
     */
    @Benchmark
    public void validationRejectsEmptyKey(Blackhole blackhole) {
        try {
            locking.acquire("", acquire);
        } catch (IllegalArgumentException e) {
            blackhole.consume(e);
        }
    }
}
