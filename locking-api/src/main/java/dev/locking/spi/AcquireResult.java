package dev.locking.spi;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of one {@link LockingProvider#tryAcquire} attempt: every key taken, or the key that
 * stopped it.
 *
 * @since 0.1.0
 */
public sealed interface AcquireResult permits AcquireResult.Acquired, AcquireResult.Conflict {

    /**
     * Every key was taken (or, for the same owner, re-entered).
     *
     * @param fencingTokens one token per key of the call
     * @param expiresAt     when the lease lapses, or {@code null} if it never does. For a re-entry
     *                      without a lease, the expiry the lock already had
     */
    record Acquired(Map<String, Long> fencingTokens, @Nullable Instant expiresAt) implements AcquireResult {
        /**
         * Copies the token map.
         *
         * @param fencingTokens each key's fencing token
         * @param expiresAt     when the lease lapses, or {@code null} for never
         */
        public Acquired {
            fencingTokens = Map.copyOf(fencingTokens);
        }
    }

    /**
     * A key is held by someone else; nothing changed.
     *
     * @param key the first conflicting key in the (sorted) order the keys were given
     */
    record Conflict(String key) implements AcquireResult {}
}
