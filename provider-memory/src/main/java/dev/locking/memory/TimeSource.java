package dev.locking.memory;

import java.time.Instant;

/**
 * Where {@link MemoryLockingProvider} reads the time: a monotonic clock for leases, waits and grace
 * periods, and the wall clock only for the {@code expiresAt} it reports. Tests pass their own.
 */
interface TimeSource {

    /** The JVM's clocks: {@link System#nanoTime()} and {@link Instant#now()}. */
    TimeSource SYSTEM = new TimeSource() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant wallTime() {
            return Instant.now();
        }
    };

    /**
     * Returns monotonic time in nanoseconds from an arbitrary origin; compare two readings only by
     * their difference.
     *
     * @return the current monotonic time
     */
    long nanoTime();

    /**
     * Returns the current wall-clock time.
     *
     * @return now
     */
    Instant wallTime();
}
