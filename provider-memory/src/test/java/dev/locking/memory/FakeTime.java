package dev.locking.memory;

import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when a test says so; wall and monotonic time move together. */
final class FakeTime implements LockingClock {

    static final Instant ORIGIN = Instant.parse("2030-01-01T00:00:00Z");

    private final AtomicLong nanos = new AtomicLong(5_000_000_000L);

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public Instant wallTime() {
        return ORIGIN.plusNanos(nanos.get());
    }

    void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }
}
