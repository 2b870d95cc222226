package dev.locking.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LockingClockTest {

    @Test
    void system_readsTheJvmClocks() {
        long before = System.currentTimeMillis();
        long nanosBefore = System.nanoTime();

        long millis = LockingClock.SYSTEM.currentTimeMillis();
        Instant wall = LockingClock.SYSTEM.wallTime();
        long nanos = LockingClock.SYSTEM.nanoTime();

        assertThat(millis).isGreaterThanOrEqualTo(before);
        assertThat(wall.toEpochMilli()).isGreaterThanOrEqualTo(before);
        assertThat(nanos - nanosBefore).isNotNegative();
    }

    @Test
    void currentTimeMillis_defaultsToTheWallTime() {
        Instant fixed = Instant.parse("2026-12-07T12:00:00.123456Z");
        LockingClock clock = new LockingClock() {
            @Override
            public long nanoTime() {
                return 0;
            }

            @Override
            public Instant wallTime() {
                return fixed;
            }
        };

        assertThat(clock.currentTimeMillis()).isEqualTo(fixed.toEpochMilli());
        assertThat(Leases.expiryMillis(clock.currentTimeMillis(), Duration.ofSeconds(1)))
                .isEqualTo(fixed.toEpochMilli() + 1000);
    }
}
