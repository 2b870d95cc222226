package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Leases are stored the way every provider stores them ({@code Leases}): a lease shorter than ZooKeeper's
 * unit (the millisecond written into the node) is rounded up to one unit, never down to zero, so on a clock
 * that does not move such a lock stays held; a huge lease is capped at 100 years.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperLeaseRoundingTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    private final String namespace = "test-lease-rounding-" + UUID.randomUUID().toString().substring(0, 8);
    private CuratorFramework client;
    private ZookeeperLockingProvider provider;

    @BeforeAll
    void start() throws Exception {
        client = ZK.newClient();
        provider = ZookeeperLockingProvider.withGivenClient("lp_zookeeper", client, namespace, new LockingClock() {
            @Override
            public long nanoTime() {
                return 0;
            }

            @Override
            public Instant wallTime() {
                return NOW;
            }
        });
    }

    @AfterAll
    void stop() {
        provider.releaseAll(null);
        provider.close();
        client.close();
    }

    @Test
    void subMillisecondLease_isRoundedUpToOneMillisecond_notDownToZero() {
        AcquireResult first = provider.tryAcquire(List.of("short"), "first", Duration.ofNanos(500_000));

        assertThat(first).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(((AcquireResult.Acquired) first).expiresAt()).isEqualTo(NOW.plusMillis(1));
        // The clock has not moved: the lease has not lapsed, so another owner finds the key held.
        assertThat(provider.tryAcquire(List.of("short"), "second", Duration.ofSeconds(30)))
                .isEqualTo(new AcquireResult.Conflict("short"));
    }

    @Test
    void aHugeLease_isCappedAtOneHundredYears() {
        AcquireResult result = provider.tryAcquire(List.of("long"), "first", Duration.ofSeconds(Long.MAX_VALUE));

        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(((AcquireResult.Acquired) result).expiresAt()).isEqualTo(NOW.plus(Duration.ofDays(36_525)));
    }

    @Test
    void extend_withSubMillisecondLease_keepsTheLockHeld() {
        assertThat(provider.tryAcquire(List.of("extended"), "first", Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Acquired.class);

        assertThat(provider.extend(List.of("extended"), "first", Duration.ofNanos(1))).isTrue();

        assertThat(provider.tryAcquire(List.of("extended"), "second", Duration.ofSeconds(30)))
                .isEqualTo(new AcquireResult.Conflict("extended"));
    }
}
