package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code lp_redis} stores leases the way every provider does ({@code Leases}): one cap, 100 years. */
class RedisLeaseNormalisationTest {
    @RegisterExtension
    static final RedisServer REDIS = RedisServer.shared();

    /** The one lease cap of every provider: 100 years of 365.25 days. */
    private static final Duration CAP = Duration.ofDays(36_525);

    private String prefix = "";
    private LockingProvider redis;

    @BeforeEach
    void setUp() {
        prefix = "lease-" + UUID.randomUUID() + ":";
        redis = REDIS.provider("lp_redis", "keyPrefix", prefix);
    }

    @AfterEach
    void tearDown() {
        redis.close();
        REDIS.deleteKeysStartingWith(prefix);
    }

    @Test
    void aHugeLease_isCappedAtOneHundredYears() {
        Instant before = Instant.now();
        AcquireResult result = redis.tryAcquire(List.of("k"), "me", Duration.ofSeconds(Long.MAX_VALUE));
        Instant after = Instant.now();

        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(((AcquireResult.Acquired) result).expiresAt())
                .isBetween(before.plus(CAP).minusSeconds(60), after.plus(CAP).plusSeconds(60));
        assertThat(redis.inspect("k").orElseThrow().expiresAt())
                .isBetween(before.plus(CAP).minusSeconds(60), Instant.now().plus(CAP).plusSeconds(60));
    }
}
