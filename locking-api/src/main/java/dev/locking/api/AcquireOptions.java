package dev.locking.api;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Options of {@link LockingService#acquire(String, AcquireOptions) acquire}. Every field is optional;
 * {@code null} means "not given".
 *
 * {@snippet :
 * AcquireOptions options = AcquireOptions.builder()
 *         .ownerId("user_123")            // only this owner may release or extend
 *         .expire(Duration.ofSeconds(60)) // the lease; without it the lock never expires
 *         .build();
 * }
 *
 * @param ownerId  who owns the lock; {@code null} takes an anonymous lock, which anyone may release
 *                 and nobody can re-enter
 * @param expire   the lease; {@code null} means the lock never expires; must be positive when given.
 *                 When the same owner acquires again, a given expire resets the lease to now + expire
 * @param provider the provider id, such as {@code lp_redis}; {@code null} means the default provider
 * @since 0.1.0
 */
public record AcquireOptions(@Nullable String ownerId, @Nullable Duration expire, @Nullable String provider) {

    /** Options with nothing given: anonymous, never expiring, default provider. */
    public static final AcquireOptions DEFAULTS = new AcquireOptions(null, null, null);

    /**
     * Starts a builder with nothing given.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns a builder holding these options, to derive a variant.
     *
     * @return a new builder with this record's values
     */
    public Builder toBuilder() {
        return new Builder().ownerId(ownerId).expire(expire).provider(provider);
    }

    /** Builds {@link AcquireOptions}. Not thread-safe; the built record shares nothing with it. */
    public static final class Builder {
        private @Nullable String ownerId;
        private @Nullable Duration expire;
        private @Nullable String provider;

        private Builder() {}

        /**
         * Sets the owner.
         *
         * @param ownerId the owner; {@code null} for an anonymous lock
         * @return this builder
         */
        public Builder ownerId(@Nullable String ownerId) {
            this.ownerId = ownerId;
            return this;
        }

        /**
         * Sets the lease.
         *
         * @param expire the lease; {@code null} for a lock that never expires; must be positive when given
         * @return this builder
         */
        public Builder expire(@Nullable Duration expire) {
            this.expire = expire;
            return this;
        }

        /**
         * Sets the provider id.
         *
         * @param provider such as {@code lp_redis}; {@code null} means the default provider
         * @return this builder
         */
        public Builder provider(@Nullable String provider) {
            this.provider = provider;
            return this;
        }

        /**
         * Builds the options.
         *
         * @return an immutable record
         */
        public AcquireOptions build() {
            return new AcquireOptions(ownerId, expire, provider);
        }
    }
}
