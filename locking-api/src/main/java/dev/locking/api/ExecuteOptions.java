package dev.locking.api;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Options of {@link LockingService#execute(String, LockedJob, ExecuteOptions) execute}. Every field is
 * optional; {@code null} means "not given" and the documented default applies.
 *
 * <p>Values are checked by the call that uses them, where the key is known and can be named in the
 * message: a non-positive {@code expire} is rejected there with an {@link IllegalArgumentException}.
 *
 * <pre>{@code
 * ExecuteOptions options = ExecuteOptions.builder()
 *         .timeout(Duration.ofSeconds(2))   // wait at most 2 s for the keys
 *         .expire(Duration.ofMinutes(1))    // lease, renewed while the job runs
 *         .provider("lp_redis")
 *         .build();
 * }</pre>
 *
 * @param timeout  how long to wait for the keys; {@code null}, zero or negative means the default
 *                 of {@value #DEFAULT_TIMEOUT_SECONDS} seconds
 * @param expire   the lease, renewed every third of it while the job runs; {@code null} means
 *                 {@value #DEFAULT_EXPIRE_SECONDS} seconds; must be positive when given
 * @param provider the provider id, such as {@code lp_redis}; {@code null} means the default provider
 * @since 0.1.0
 */
public record ExecuteOptions(@Nullable Duration timeout, @Nullable Duration expire, @Nullable String provider) {

    /** The wait used when no positive timeout is given, in seconds. */
    public static final long DEFAULT_TIMEOUT_SECONDS = 5;

    /** The lease used when no expire is given, in seconds. */
    public static final long DEFAULT_EXPIRE_SECONDS = 30;

    /** The wait used when no positive timeout is given. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS);

    /** The lease used when no expire is given. */
    public static final Duration DEFAULT_EXPIRE = Duration.ofSeconds(DEFAULT_EXPIRE_SECONDS);

    /** Options with nothing given: the default timeout, lease and provider. */
    public static final ExecuteOptions DEFAULTS = new ExecuteOptions(null, null, null);

    /**
     * Starts a builder with nothing given.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the wait this call will use: {@link #timeout()} when positive, otherwise {@link #DEFAULT_TIMEOUT}.
     *
     * @return a positive duration
     */
    public Duration effectiveTimeout() {
        Duration t = timeout;
        return t == null || t.isZero() || t.isNegative() ? DEFAULT_TIMEOUT : t;
    }

    /**
     * Returns the lease this call will use: {@link #expire()} when given, otherwise {@link #DEFAULT_EXPIRE}.
     *
     * @return the lease as given, not yet validated
     */
    public Duration effectiveExpire() {
        Duration e = expire;
        return e == null ? DEFAULT_EXPIRE : e;
    }

    /**
     * Returns a builder holding these options, to derive a variant.
     *
     * @return a new builder with this record's values
     */
    public Builder toBuilder() {
        return new Builder().timeout(timeout).expire(expire).provider(provider);
    }

    /** Builds {@link ExecuteOptions}. Not thread-safe; the built record shares nothing with it. */
    public static final class Builder {
        private @Nullable Duration timeout;
        private @Nullable Duration expire;
        private @Nullable String provider;

        private Builder() {}

        /**
         * Sets how long {@code execute} waits for the keys.
         *
         * @param timeout the wait; {@code null}, zero or negative means the default of 5 seconds
         * @return this builder
         */
        public Builder timeout(@Nullable Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /**
         * Sets the lease of the locks {@code execute} takes; it is renewed every third of it while the job runs.
         *
         * @param expire the lease; {@code null} means the default of 30 seconds; must be positive when given
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
        public ExecuteOptions build() {
            return new ExecuteOptions(timeout, expire, provider);
        }
    }
}
