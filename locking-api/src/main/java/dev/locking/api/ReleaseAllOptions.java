package dev.locking.api;

import org.jspecify.annotations.Nullable;

/**
 * Options of {@link LockingService#releaseAll(ReleaseAllOptions) releaseAll}. Every field is optional;
 * {@code null} means "not given".
 *
 * @param ownerId  release only this owner's locks; {@code null} releases every lock of the provider
 *                 (within its namespace or key prefix)
 * @param provider the provider id, such as {@code lp_redis}; {@code null} means the default provider
 * @since 0.1.0
 */
public record ReleaseAllOptions(@Nullable String ownerId, @Nullable String provider) {

    /** Options with nothing given: every lock of the default provider. */
    public static final ReleaseAllOptions DEFAULTS = new ReleaseAllOptions(null, null);

    /**
     * Starts a builder with nothing given.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link ReleaseAllOptions}. Not thread-safe; the built record shares nothing with it. */
    public static final class Builder {
        private @Nullable String ownerId;
        private @Nullable String provider;

        private Builder() {}

        /**
         * Sets the owner whose locks are released.
         *
         * @param ownerId the owner, or {@code null} for every lock
         * @return this builder
         */
        public Builder ownerId(@Nullable String ownerId) {
            this.ownerId = ownerId;
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
        public ReleaseAllOptions build() {
            return new ReleaseAllOptions(ownerId, provider);
        }
    }
}
