package dev.locking.memory;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Creates {@code lp_memory} providers: locks kept in this JVM's memory, which exclude threads of this
 * JVM only.
 *
 * <h2>What you get</h2>
 * <ul>
 *   <li>All-or-nothing multi-key acquires without a global lock, linearizable: no other thread ever
 *       sees some keys of a call taken and others not.</li>
 *   <li>Fencing tokens from one counter per provider, so they increase per key across release and
 *       expiry (they restart with the JVM).</li>
 *   <li>Leases judged by {@link System#nanoTime()}; {@code expiresAt} is reported in wall-clock time.
 *       Expired locks count as free at once and are swept away in the background.</li>
 *   <li>A release or an expiry wakes the longest waiter of the key at once (a release notification,
 *       not polling); a waiter also wakes when the lease of the key it waits for lapses. The freed key is
 *       kept for the woken waiter's thread for 250 ms (until it takes it), so a thread that releases and
 *       retakes a key in a loop cannot starve the longest waiter, whichever service either belongs to.
 *       The order among the {@code execute} calls of one service is the core's (first come, first
 *       served).</li>
 *   <li>Released and expired keys leave nothing behind.</li>
 * </ul>
 *
 * <h2>Options</h2>
 * <ul>
 *   <li>{@code sweepInterval}: how often expired locks are swept away in the background (default 1 s).
 *       An ISO-8601 duration ({@code PT5S}), milliseconds ({@code 5000}), or {@code 5s}, {@code 500ms},
 *       {@code 2m}, {@code 1h}.</li>
 * </ul>
 * Any other option is ignored with a warning (the core's, as for every provider that declares its
 * options).
 *
 * <p>One lock table per instance id for the whole JVM: every {@code LockingService} of a JVM that uses
 * {@code lp_memory} sees the same locks. The table's sweeper thread (a daemon) starts with the first lease
 * or wait; closing the last provider of the id stops it and drops every lock. After close, every call on that
 * provider throws {@link IllegalStateException}.
 *
 * @since 0.1.0
 */
public final class MemoryProviderFactory implements LockingProviderFactory {

    /** The provider type; the default instance's id is {@code lp_memory}. */
    public static final String TYPE = "memory";

    /** The option that sets how often expired locks are swept away. */
    public static final String SWEEP_INTERVAL = "sweepInterval";

    /** Creates the factory; {@link java.util.ServiceLoader} calls this. */
    public MemoryProviderFactory() {}

    /**
     * Returns {@value #TYPE}.
     *
     * @return the provider type
     */
    @Override
    public String type() {
        return TYPE;
    }

    /**
     * Declares {@value #SWEEP_INTERVAL}, a duration; the core warns about any other option.
     *
     * @return the options of {@code lp_memory}
     */
    @Override
    public Optional<List<ProviderOption>> options() {
        return Optional.of(List.of(ProviderOption.duration(SWEEP_INTERVAL)));
    }

    /**
     * Creates an in-memory provider on this JVM's lock table for {@code config.id()}: every provider of one id
     * in a JVM (in any {@code LockingService}) sees the same locks, so services of one JVM exclude each
     * other. The table lives while one of them is open; the first fixes {@code sweepInterval}. Starts
     * nothing until a lease or a wait is first used.
     *
     * @param config the id and options
     * @return a new, empty provider
     * @throws IllegalArgumentException if {@code sweepInterval} is not a positive duration
     */
    @Override
    public LockingProvider create(ProviderConfig config) {
        Duration sweepInterval = MemoryLockingProvider.DEFAULT_SWEEP_INTERVAL;
        String value = config.option(SWEEP_INTERVAL).orElse(null);
        if (value != null) {
            sweepInterval = OptionValues.duration(SWEEP_INTERVAL, value);
        }
        return JvmWideTables.open(config.id(), sweepInterval);
    }

    /**
     * Creates an in-memory provider with default options and a lock table of its own (not the JVM-wide table
     * of its id that {@link #create(ProviderConfig)} gives), without going through a {@link ProviderConfig};
     * for tests and benchmarks.
     *
     * @param id the provider id, such as {@code lp_memory}
     * @return a new, empty provider
     * @throws IllegalArgumentException if the id is empty
     */
    public static LockingProvider newProvider(String id) {
        if (id.isEmpty()) {
            throw new IllegalArgumentException("Provider id must not be empty");
        }
        return new MemoryLockingProvider(id, LockingClock.SYSTEM, MemoryLockingProvider.DEFAULT_SWEEP_INTERVAL,
                MemoryLockingProvider.DEFAULT_WAIT_SLICE);
    }
}
