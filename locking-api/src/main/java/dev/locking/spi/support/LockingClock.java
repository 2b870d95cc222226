package dev.locking.spi.support;

import java.time.Instant;

/**
 * Where the core and providers read the time: a monotonic clock for durations (waits, renewal periods,
 * leases a provider judges itself) and the wall clock only for what is reported or stored as a moment
 * ({@code expiresAt}, an expiry written into the backend).
 *
 * <p>Production code uses {@link #SYSTEM}. There is no global, settable clock: a class that reads the time
 * takes a {@code LockingClock} (package-private constructor or factory method), and its tests pass one
 * they move by hand:
 *
 * <pre>{@code
 * final class FakeClock implements LockingClock {
 *     private long nanos;
 *     private final Instant start = Instant.parse("2026-01-01T00:00:00Z");
 *
 *     @Override
 *     public synchronized long nanoTime() {
 *         return nanos;
 *     }
 *
 *     @Override
 *     public synchronized Instant wallTime() {
 *         return start.plusNanos(nanos);
 *     }
 *
 *     synchronized void advance(Duration by) {
 *         nanos += by.toNanos();
 *     }
 * }
 * }</pre>
 *
 * <p>Implementations must be safe for concurrent use; they should not block.
 *
 * @since 0.2.0
 */
public interface LockingClock {

    /** The JVM's clocks: {@link System#nanoTime()}, {@link Instant#now()} and {@link System#currentTimeMillis()}. */
    LockingClock SYSTEM = new LockingClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant wallTime() {
            return Instant.now();
        }

        @Override
        public long currentTimeMillis() {
            return System.currentTimeMillis();
        }

        @Override
        public String toString() {
            return "LockingClock.SYSTEM";
        }
    };

    /**
     * Returns monotonic time in nanoseconds from an arbitrary origin; compare two readings only by their
     * difference ({@code b - a > 0}, never {@code b > a}), as with {@link System#nanoTime()}.
     *
     * @return the current monotonic time
     */
    long nanoTime();

    /**
     * Returns the current wall-clock time. It may jump (NTP, an operator); do not measure durations with it.
     *
     * @return now
     */
    Instant wallTime();

    /**
     * Returns the current wall-clock time in milliseconds since the epoch, the unit many backends store
     * expiries in. The default derives it from {@link #wallTime()}.
     *
     * @return now, in epoch milliseconds
     */
    default long currentTimeMillis() {
        return wallTime().toEpochMilli();
    }
}
