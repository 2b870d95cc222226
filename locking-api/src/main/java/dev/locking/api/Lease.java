package dev.locking.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The result of a successful {@link LockingService#acquire(String, AcquireOptions) acquire}: which
 * keys are held, by whom, until when, and with which fencing tokens.
 *
 * <p>A lease is a snapshot taken when the call returned. It does not track later changes: the
 * lock may expire at {@link #expiresAt()} or be released by its owner.
 *
 * @param providerId    the provider that holds the locks, such as {@code lp_memory}
 * @param keys          the locked keys, sorted and without duplicates
 * @param ownerId       the owner given to {@code acquire}, or {@code null} for an anonymous lock
 * @param expiresAt     when the lease lapses (wall-clock time), or {@code null} if it never expires
 * @param fencingTokens each key's fencing token; strictly increasing each time a key is taken anew
 * @since 0.1.0
 */
public record Lease(
        String providerId,
        List<String> keys,
        @Nullable String ownerId,
        @Nullable Instant expiresAt,
        Map<String, Long> fencingTokens) {

    /**
     * Copies the collections, so a lease never changes after it was made.
     *
     * @param providerId    the provider that holds the locks
     * @param keys          the locked keys, sorted and without duplicates
     * @param ownerId       the owner, or {@code null} for an anonymous lock
     * @param expiresAt     when the lease lapses, or {@code null} for never
     * @param fencingTokens each key's fencing token
     */
    public Lease {
        keys = List.copyOf(keys);
        fencingTokens = Map.copyOf(fencingTokens);
    }
}
