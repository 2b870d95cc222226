package dev.locking.api;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Options of {@link LockingService#acquire(String, AcquireOptions) acquire}. Every field is optional;
 * {@code null} means "not given".
 *
 * <pre>{@code
 * AcquireOptions options = AcquireOptions.builder()
 *         .ownerId("user_123")            // only this owner may release or extend
 *         .expire(Duration.ofSeconds(60)) // the lease; without it the lock never expires
 *         .wait(Duration.ofSeconds(2))    // wait up to 2 s for the keys; without it, never wait
 *         .build();
 * }</pre>
 *
 * <h2>Waiting</h2>
 * Without {@code wait} (or with zero) {@code acquire} makes one attempt and throws
 * {@link LockAcquisitionException} when a key is held. With a positive {@code wait} it waits up to that long
 * for every key to be free, in the same fair wait as {@code execute} (woken when a key is released, in
 * arrival order), then throws {@link LockTimeoutException}; a timed-out or interrupted wait leaves nothing
 * locked. Unlike {@code execute}'s, the lock it takes outlives the call: it is held until released, or
 * until its {@code expire} ends.
 *
 * @param ownerId  who owns the lock; {@code null} takes an anonymous lock, which anyone may release
 *                 and nobody can re-enter
 * @param expire   the lease; {@code null} means the lock never expires; must be positive when given.
 *                 When the same owner acquires again, a given expire resets the lease to now + expire
 * @param provider the provider id, such as {@code lp_redis}; {@code null} means the default provider
 * @param maxWait  how long to wait for held keys, set with {@link Builder#wait(Duration)}; {@code null} or
 *                 zero means never wait (one attempt); must not be negative (checked by the call, which names
 *                 the key). Named {@code maxWait} because a record accessor {@code wait()} would clash with
 *                 {@link Object#wait()}
 * @since 0.1.0
 */
public record AcquireOptions(@Nullable String ownerId, @Nullable Duration expire, @Nullable String provider,
        @Nullable Duration maxWait) {

    /** Options with nothing given: anonymous, never expiring, default provider, no wait. */
    public static final AcquireOptions DEFAULTS = new AcquireOptions(null, null, null, null);

    /**
     * Options that never wait, as before {@code wait} existed.
     *
     * @param ownerId  who owns the lock, or {@code null}
     * @param expire   the lease, or {@code null}
     * @param provider the provider id, or {@code null}
     */
    public AcquireOptions(@Nullable String ownerId, @Nullable Duration expire, @Nullable String provider) {
        this(ownerId, expire, provider, null);
    }

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
        return new Builder().ownerId(ownerId).expire(expire).provider(provider).wait(maxWait);
    }

    /** Builds {@link AcquireOptions}. Not thread-safe; the built record shares nothing with it. */
    public static final class Builder {
        private @Nullable String ownerId;
        private @Nullable Duration expire;
        private @Nullable String provider;
        private @Nullable Duration maxWait;

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
         * Sets how long {@code acquire} waits for held keys before it throws {@link LockTimeoutException}. The
         * wait is woken when a key is released (not only by polling) and is fair: calls waiting for a key get
         * it in arrival order. An interrupt ends it with a {@link LockingException}, the interrupt flag set.
         * Either way nothing stays locked by the call.
         *
         * @param wait the longest wait; {@code null} or zero means never wait (one attempt, which throws
         *             {@link LockAcquisitionException} on a held key); must not be negative, which the call
         *             rejects with an {@link IllegalArgumentException}
         * @return this builder
         * @since 0.2.0
         */
        public Builder wait(@Nullable Duration wait) {
            this.maxWait = wait;
            return this;
        }

        /**
         * Builds the options.
         *
         * @return an immutable record
         */
        public AcquireOptions build() {
            return new AcquireOptions(ownerId, expire, provider, maxWait);
        }
    }
}
