package dev.locking.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LeasesTest {

    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    @Test
    void toMillis_roundsUp_soAPositiveLeaseIsNeverZero() {
        assertThat(Leases.toMillis(Duration.ofNanos(1))).isEqualTo(1);
        assertThat(Leases.toMillis(Duration.ofNanos(500_000))).isEqualTo(1);
        assertThat(Leases.toMillis(Duration.ofMillis(1))).isEqualTo(1);
        assertThat(Leases.toMillis(Duration.ofNanos(1_000_001))).isEqualTo(2);
        assertThat(Leases.toMillis(Duration.ofMillis(1500))).isEqualTo(1500);
        assertThat(Leases.toMillis(Duration.ofSeconds(30))).isEqualTo(30_000);
    }

    @Test
    void toMillis_capsAtMax() {
        assertThat(Leases.toMillis(Leases.MAX)).isEqualTo(Leases.MAX.toMillis());
        assertThat(Leases.toMillis(Leases.MAX.plusNanos(1))).isEqualTo(Leases.MAX.toMillis());
        assertThat(Leases.toMillis(Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(Leases.MAX.toMillis());
    }

    @Test
    void max_isOneHundredYears_andFitsEveryUnitWithRoom() {
        assertThat(Leases.MAX).isEqualTo(Duration.ofDays(36_525));
        assertThat(Leases.MAX.toNanos()).isLessThan(Long.MAX_VALUE / 2);
        // Redis PEXPIRE: now (epoch ms) + lease must stay far from overflowing a 64-bit millisecond time.
        assertThat(Math.addExact(NOW.toEpochMilli(), Leases.MAX.toMillis())).isPositive();
    }

    @Test
    void toNanos_isExact_atLeastOne_andCapped() {
        assertThat(Leases.toNanos(Duration.ofNanos(1))).isEqualTo(1);
        assertThat(Leases.toNanos(Duration.ofMillis(250))).isEqualTo(250_000_000);
        assertThat(Leases.toNanos(Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(Leases.MAX.toNanos());
    }

    @Test
    void toUnit_roundsUpToTheUnit() {
        assertThat(Leases.toUnit(Duration.ofMillis(1), TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(Leases.toUnit(Duration.ofMillis(1001), TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(Leases.toUnit(Duration.ofSeconds(5), TimeUnit.SECONDS)).isEqualTo(5);
        assertThat(Leases.toUnit(Duration.ofNanos(1500), TimeUnit.MICROSECONDS)).isEqualTo(2);
        assertThat(Leases.toUnit(Duration.ofSeconds(Long.MAX_VALUE), TimeUnit.DAYS)).isEqualTo(36_525);
    }

    @Test
    void capped_keepsShortLeases_andCapsLongOnes() {
        assertThat(Leases.capped(Duration.ofNanos(1))).isEqualTo(Duration.ofNanos(1));
        assertThat(Leases.capped(Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(Leases.MAX);
    }

    @Test
    void expiryMillis_isNowPlusTheRoundedLease() {
        long now = NOW.toEpochMilli();
        assertThat(Leases.expiryMillis(now, Duration.ofNanos(500_000))).isEqualTo(now + 1);
        assertThat(Leases.expiryMillis(now, Duration.ofSeconds(30))).isEqualTo(now + 30_000);
        assertThat(Leases.expiryMillis(now, Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(now + Leases.MAX.toMillis());
    }

    @Test
    void expiryMillis_saturatesBelowLongMaxValue_insteadOfWrapping() {
        assertThat(Leases.expiryMillis(Long.MAX_VALUE - 10, Duration.ofDays(1))).isEqualTo(Long.MAX_VALUE - 1);
        assertThat(Leases.expiryMillis(Long.MAX_VALUE - 1, Duration.ofMillis(1))).isEqualTo(Long.MAX_VALUE - 1);
        assertThat(Leases.expiryMillis(Long.MAX_VALUE, Duration.ofMillis(1))).isEqualTo(Long.MAX_VALUE - 1);
        assertThat(Leases.expiryMillis(Long.MAX_VALUE - 2, Duration.ofMillis(1))).isEqualTo(Long.MAX_VALUE - 1);
    }

    @Test
    void expiresAt_isNowPlusTheCappedLease_atFullPrecision() {
        assertThat(Leases.expiresAt(NOW, Duration.ofNanos(500_000))).isEqualTo(NOW.plusNanos(500_000));
        assertThat(Leases.expiresAt(NOW, Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo(NOW.plus(Leases.MAX));
    }

    @Test
    void expiresAt_saturatesAtInstantMax() {
        assertThat(Leases.expiresAt(Instant.MAX.minus(1, ChronoUnit.DAYS), Duration.ofDays(2))).isEqualTo(Instant.MAX);
        assertThat(Leases.expiresAt(Instant.MAX, Duration.ofNanos(1))).isEqualTo(Instant.MAX);
    }

    @Test
    void aLeaseThatIsNotPositive_isRejectedWithItsValue() {
        assertThatThrownBy(() -> Leases.toMillis(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("lease must be positive: PT0S");
        assertThatThrownBy(() -> Leases.toNanos(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("lease must be positive: PT-1S");
        assertThatThrownBy(() -> Leases.expiryMillis(0, Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("lease must be positive: PT-0.005S");
        assertThatThrownBy(() -> Leases.expiresAt(NOW, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("lease must be positive: PT0S");
        assertThatThrownBy(() -> Leases.capped(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("lease must not be null");
        assertThatThrownBy(() -> Leases.toUnit(Duration.ofSeconds(1), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("unit must not be null");
    }
}
