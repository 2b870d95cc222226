package dev.locking.api;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What {@link LockingService#inspect(String)} reports about a held key.
 *
 * @param key          the key
 * @param ownerId      the owner that holds it, or {@code null} when it is held anonymously
 *                     (also for locks taken by {@code execute}, whose internal owner is not exposed
 *                     by every provider)
 * @param expiresAt    when the lease lapses (wall-clock time), or {@code null} if it never expires
 * @param fencingToken the fencing token given when the key was taken
 * @since 0.1.0
 */
public record LockInfo(String key, @Nullable String ownerId, @Nullable Instant expiresAt, long fencingToken) {}
