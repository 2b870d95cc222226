package dev.locking.core;

import java.time.Instant;

/**
 * Time as the core reads it: monotonic nanoseconds for waits and renewal periods, wall-clock time only
 * for what users see. Tests pass their own; there is no global settable clock.
 */
interface LockingClock {

    /** The system clock. */
    LockingClock SYSTEM = new LockingClock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public Instant wallTime() {
            return Instant.now();
        }
    };

    /** Monotonic time in nanoseconds, only meaningful as a difference. */
    long nanoTime();

    /** Wall-clock time. */
    Instant wallTime();
}
