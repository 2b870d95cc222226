package dev.locking.hazelcast;

import java.io.Serializable;
import org.jspecify.annotations.Nullable;

/**
 * The value stored under a held key in the lock map.
 *
 * <p>Times are milliseconds since the epoch on the clock of the member that owns the key's partition:
 * every decision about a lapsed lease is taken there, by an entry processor, so clients' clocks do not
 * matter. The entry also carries the map TTL (the lease), which removes it and wakes waiters; the
 * {@code expiresAt} check makes the decision exact even before Hazelcast's expiry has run.
 *
 * <p>Members must be able to load this class: it is on their classpath when they run this jar. The
 * {@code owner} attribute is indexed, so {@code releaseAll(owner)} is an index lookup, not a scan.
 *
 * @param owner     the owner, or {@code null} for an anonymous lock
 * @param token     the fencing token given when the key was taken
 * @param expiresAt when the lease lapses, or {@link #NEVER}
 */
record LockEntry(@Nullable String owner, long token, long expiresAt) implements Serializable {

    /** {@link #expiresAt} of a lock taken without a lease. */
    static final long NEVER = 0L;

    private static final long serialVersionUID = 1L;

    /** Whether the lease has lapsed at {@code now}. */
    boolean expired(long now) {
        return expiresAt != NEVER && now >= expiresAt;
    }

    /** Whether a non-null owner is this entry's owner. */
    boolean ownedBy(@Nullable String candidate) {
        return candidate != null && candidate.equals(owner);
    }

    /** The lease left at {@code now} in milliseconds (at least 1 while held), or -1 if it never lapses. */
    long remainingMillis(long now) {
        return expiresAt == NEVER ? -1 : Math.max(1, expiresAt - now);
    }

    /** A copy with another expiry. */
    LockEntry withExpiresAt(long newExpiresAt) {
        return new LockEntry(owner, token, newExpiresAt);
    }
}
