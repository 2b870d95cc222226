package dev.locking.api;

import org.jspecify.annotations.Nullable;

/**
 * Options of {@link LockingService#release(String, ReleaseOptions) release}. Every field is optional;
 * {@code null} means "not given".
 *
 * @param ownerId  the owner releasing; a key held by an owner is released only when this matches it,
 *                 an anonymous key is released whatever is given
 * @param provider the provider id, such as {@code lp_redis}; {@code null} means the default provider
 * @since 0.1.0
 */
public record ReleaseOptions(@Nullable String ownerId, @Nullable String provider) {

    /** Options with nothing given: no owner, default provider. */
    public static final ReleaseOptions DEFAULTS = new ReleaseOptions(null, null);

    /**
     * Starts a builder with nothing given.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link ReleaseOptions}. Not thread-safe; the built record shares nothing with it. */
    public static final class Builder {
        private @Nullable String ownerId;
        private @Nullable String provider;

        private Builder() {}

        /**
         * Sets the owner.
         *
         * @param ownerId the owner releasing, or {@code null}
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
        public ReleaseOptions build() {
            return new ReleaseOptions(ownerId, provider);
        }
    }
}
