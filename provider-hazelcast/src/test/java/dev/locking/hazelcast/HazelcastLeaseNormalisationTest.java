package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code lp_hazelcast} stores leases the way every provider does ({@code Leases}): one cap, 100 years. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HazelcastLeaseNormalisationTest {

    /** The one lease cap of every provider: 100 years of 365.25 days. */
    private static final Duration CAP = Duration.ofDays(36_525);

    private @Nullable HazelcastInstance member;
    private @Nullable LockingProvider provider;

    @BeforeAll
    void start() {
        String cluster = TestMembers.clusterName("lease");
        member = TestMembers.startMember(cluster);
        provider = TestMembers.clientProvider("lp_hazelcast", cluster, TestMembers.address(member),
                "lease-" + UUID.randomUUID());
    }

    @AfterAll
    void stop() {
        if (provider != null) {
            provider.close();
        }
        if (member != null) {
            member.shutdown();
        }
    }

    @Test
    void aHugeLease_isCappedAtOneHundredYears() {
        LockingProvider hazelcast = Objects.requireNonNull(provider);
        Instant before = Instant.now();
        AcquireResult result = hazelcast.tryAcquire(List.of("k"), "me", Duration.ofSeconds(Long.MAX_VALUE));
        Instant after = Instant.now();

        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(((AcquireResult.Acquired) result).expiresAt())
                .isBetween(before.plus(CAP).minusSeconds(60), after.plus(CAP).plusSeconds(60));
        assertThat(hazelcast.inspect("k").orElseThrow().expiresAt())
                .isBetween(before.plus(CAP).minusSeconds(60), Instant.now().plus(CAP).plusSeconds(60));
    }

    @Test
    void aSubMillisecondLease_isRoundedUpToOneMillisecond() {
        LockingProvider hazelcast = Objects.requireNonNull(provider);
        Instant before = Instant.now();
        AcquireResult result = hazelcast.tryAcquire(List.of("short"), "me", Duration.ofNanos(500_000));

        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        // The member's clock is this JVM's: the expiry is at least a millisecond after the call began.
        assertThat(((AcquireResult.Acquired) result).expiresAt())
                .isAfterOrEqualTo(before.truncatedTo(ChronoUnit.MILLIS).plusMillis(1));
    }
}
