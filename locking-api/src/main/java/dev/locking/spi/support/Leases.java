package dev.locking.spi.support;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Turns a lease into what a backend stores, the same way in every provider.
 *
 * <p>The rules:
 * <ul>
 *   <li><b>Rounded up.</b> A lease is converted to the backend's unit by rounding up: 500 µs becomes
 *       1 ms, 1.2 ms becomes 2 ms. A positive lease therefore never becomes zero (which backends read as
 *       "already lapsed" or as "no expiry"), and a lock never lapses before the lease the caller asked for.</li>
 *   <li><b>One cap.</b> A lease longer than {@link #MAX} (100 years of 365.25 days) is treated as
 *       {@code MAX}. Every bundled backend can hold it: {@code MAX} in nanoseconds is below
 *       {@code Long.MAX_VALUE / 2} (so monotonic deadlines compare correctly), and in milliseconds added to
 *       any current epoch time it fits a Redis {@code PEXPIRE} and a {@code long} expiry in a Hazelcast entry
 *       or a ZooKeeper node.</li>
 *   <li><b>No overflow.</b> {@link #expiryMillis} and {@link #expiresAt} saturate instead of wrapping
 *       around, also for a clock far in the future (a test's).</li>
 * </ul>
 *
 * <p>The core validates leases before a provider sees them (positive, non-null); these methods check again
 * and throw {@link IllegalArgumentException} naming the value, so a provider used directly fails clearly.
 * A provider calls them once per operation, before it talks to the backend:
 *
 * <pre>{@code
 * @Override
 * public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
 *     // "0" tells the script there is no lease; Leases never returns 0 for a lease.
 *     long leaseMillis = lease == null ? 0 : Leases.toMillis(lease);
 *     long expiry = lease == null ? NEVER : Leases.expiryMillis(clock.currentTimeMillis(), lease);
 *     // ... one atomic call to the backend with leaseMillis or expiry
 * }
 * }</pre>
 *
 * @since 0.2.0
 */
public final class Leases {

    /** The longest lease a provider stores: 100 years of 365.25 days. Longer leases are capped to it. */
    public static final Duration MAX = Duration.ofDays(36_525);

    private Leases() {
    }

    /**
     * Returns the lease, capped at {@link #MAX}.
     *
     * @param lease a positive lease
     * @return {@code lease} if it is at most {@code MAX}, else {@code MAX}
     * @throws IllegalArgumentException if {@code lease} is null, zero or negative
     */
    public static Duration capped(Duration lease) {
        check(lease);
        return lease.compareTo(MAX) > 0 ? MAX : lease;
    }

    /**
     * Returns the lease in whole milliseconds, rounded up and capped at {@link #MAX}: at least 1, at most
     * {@code MAX.toMillis()}.
     *
     * @param lease a positive lease
     * @return the lease in milliseconds, {@code >= 1}
     * @throws IllegalArgumentException if {@code lease} is null, zero or negative
     */
    public static long toMillis(Duration lease) {
        Duration capped = capped(lease);
        long millis = capped.toMillis(); // cannot overflow: capped is at most MAX
        return capped.equals(Duration.ofMillis(millis)) ? millis : millis + 1;
    }

    /**
     * Returns the lease in nanoseconds, capped at {@link #MAX}: at least 1, at most {@code MAX.toNanos()}
     * (below {@code Long.MAX_VALUE / 2}, so {@code System.nanoTime() + toNanos(lease)} compared by
     * difference stays correct).
     *
     * @param lease a positive lease
     * @return the lease in nanoseconds, {@code >= 1}
     * @throws IllegalArgumentException if {@code lease} is null, zero or negative
     */
    public static long toNanos(Duration lease) {
        return capped(lease).toNanos(); // cannot overflow: capped is at most MAX
    }

    /**
     * Returns the lease in whole units, rounded up and capped at {@link #MAX}: at least 1. For a backend
     * whose expiry is stored in, say, seconds.
     *
     * @param lease a positive lease
     * @param unit  the backend's unit
     * @return the lease in {@code unit}, {@code >= 1}
     * @throws IllegalArgumentException if {@code lease} is null, zero or negative, or {@code unit} is null
     */
    public static long toUnit(Duration lease, TimeUnit unit) {
        if (unit == null) {
            throw new IllegalArgumentException("unit must not be null");
        }
        long nanos = toNanos(lease);
        long perUnit = unit.toNanos(1);
        return (nanos + perUnit - 1) / perUnit; // nanos <= MAX.toNanos() < Long.MAX_VALUE / 2: no overflow
    }

    /**
     * Returns when a lease taken at {@code nowMillis} lapses, in epoch milliseconds: {@code nowMillis} plus
     * {@link #toMillis(Duration)}, saturated at {@code Long.MAX_VALUE - 1}. The result is never
     * {@code Long.MAX_VALUE}, which providers commonly use to mean "never expires", and is always after
     * {@code nowMillis} unless {@code nowMillis} is itself at the saturation point.
     *
     * @param nowMillis the current wall-clock time in epoch milliseconds (for example
     *                  {@link LockingClock#currentTimeMillis()})
     * @param lease     a positive lease
     * @return the expiry in epoch milliseconds
     * @throws IllegalArgumentException if {@code lease} is null, zero or negative
     */
    public static long expiryMillis(long nowMillis, Duration lease) {
        long millis = toMillis(lease);
        long sum = nowMillis + millis;
        // Overflow only when both are positive and the sum wraps.
        return sum < nowMillis || sum >= Long.MAX_VALUE ? Long.MAX_VALUE - 1 : sum;
    }

    /**
     * Returns when a lease taken at {@code now} lapses: {@code now} plus {@link #capped(Duration)}, at full
     * precision, saturated at {@link Instant#MAX}.
     *
     * @param now   the current wall-clock time (for example {@link LockingClock#wallTime()})
     * @param lease a positive lease
     * @return the expiry
     * @throws IllegalArgumentException if {@code now} is null, or {@code lease} is null, zero or negative
     */
    public static Instant expiresAt(Instant now, Duration lease) {
        if (now == null) {
            throw new IllegalArgumentException("now must not be null");
        }
        Duration capped = capped(lease);
        return now.isAfter(Instant.MAX.minus(capped)) ? Instant.MAX : now.plus(capped);
    }

    private static void check(Duration lease) {
        if (lease == null) {
            throw new IllegalArgumentException("lease must not be null");
        }
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("lease must be positive: " + lease);
        }
    }
}
