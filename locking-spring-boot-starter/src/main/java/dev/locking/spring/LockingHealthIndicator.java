package dev.locking.spring;

import dev.locking.api.LockingService;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * The health of one provider of a {@link LockingService}: UP when its backend answers a read, DOWN with the
 * reason when it does not (unreachable, or the provider could not be created from its options).
 *
 * <p>The check is one {@code inspect} of the key {@value #PROBE_KEY}: it reads and writes nothing else, takes no
 * lock, and fails within the provider's bounded time when the backend is down (its connect and call timeouts).
 * A provider connects on its first use, so the first check may be the one that connects it.
 *
 * <p>Concurrency: stateless; safe for the health endpoint's concurrent calls.
 *
 * @since 0.2.0
 */
public final class LockingHealthIndicator implements HealthIndicator {
    /** The key read by each check. */
    public static final String PROBE_KEY = "locking:health-probe";

    private final LockingService locking;
    private final String providerId;
    private final boolean probed;

    /**
     * Checks one provider of a service.
     *
     * @param locking    the service
     * @param providerId one of its {@link LockingService#providerIds()}
     */
    public LockingHealthIndicator(LockingService locking, String providerId) {
        this(locking, providerId, true);
    }

    /**
     * An indicator that checks the provider only if {@code probed}; otherwise it reports UNKNOWN without touching
     * the provider (for a provider present only because its jar is, which nobody configured or uses by default:
     * checking it would connect to a default address, or start an embedded Hazelcast member, for nothing).
     */
    LockingHealthIndicator(LockingService locking, String providerId, boolean probed) {
        this.locking = locking;
        this.providerId = providerId;
        this.probed = probed;
    }

    @Override
    public Health health() {
        Health.Builder health = new Health.Builder().withDetail("provider", providerId)
                .withDetail("default", providerId.equals(locking.defaultProviderId()));
        if (!probed) {
            return health.unknown().withDetail("reason", "not configured and not the default provider: not checked")
                    .build();
        }
        try {
            locking.inspect(PROBE_KEY, providerId);
            return health.up().build();
        } catch (RuntimeException e) {
            return health.down(e).build();
        }
    }
}
