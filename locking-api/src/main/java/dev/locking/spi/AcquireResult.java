package dev.locking.spi;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
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

        /**
         * The result of a backend that answered one token per key, in the order it was given the keys.
         *
         * @param keys      the keys, in the order the backend got them
         * @param tokens    their fencing tokens, in the same order
         * @param expiresAt when the lease lapses, or {@code null} for never
         * @return each key with its token
         * @throws IllegalArgumentException if there are not as many tokens as keys
         * @since 0.2.0
         */
        public static Acquired of(List<String> keys, long[] tokens, @Nullable Instant expiresAt) {
            if (tokens.length != keys.size()) {
                throw new IllegalArgumentException(tokens.length + " tokens for " + keys.size() + " keys");
            }
            if (keys.size() == 1) {
                return new Acquired(Map.of(keys.get(0), tokens[0]), expiresAt);
            }
            Map<String, Long> byKey = new HashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                byKey.put(keys.get(i), tokens[i]);
            }
            return new Acquired(byKey, expiresAt);
        }
    }

    /**
     * A key is held by someone else; nothing changed.
     *
     * @param key the first conflicting key in the (sorted) order the keys were given
     */
    record Conflict(String key) implements AcquireResult {}
}
