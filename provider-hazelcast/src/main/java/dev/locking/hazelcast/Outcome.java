package dev.locking.hazelcast;

import java.io.Serializable;
import org.jspecify.annotations.Nullable;

/**
 * What an entry processor on the lock map reports back to the caller.
 *
 * @param status          what happened
 * @param entry           the entry now stored under the key (for {@link Status#CONFLICT} and
 *                        {@link Status#HELD}: the holder's), or {@code null}
 * @param previous        for {@link Status#REENTERED}: the entry before the re-entry, so a failed
 *                        multi-key acquire can put it back
 * @param remainingMillis the holder's lease left, measured on the member: -1 if it never lapses, 0 when
 *                        the key is free
 */
record Outcome(Status status, @Nullable LockEntry entry, @Nullable LockEntry previous, long remainingMillis)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The possible results. */
    enum Status {
        /** A free key was taken with a new token. */
        TAKEN,
        /** The same owner took a key it held again. */
        REENTERED,
        /** Someone else holds the key; nothing changed. */
        CONFLICT,
        /** A release, extension or rollback took effect. */
        DONE,
        /** A release, extension or rollback found nothing of the caller's to act on. */
        NOT_DONE,
        /** An inspection found the key held. */
        HELD,
        /** An inspection found the key free. */
        FREE
    }

    static Outcome of(Status status) {
        return new Outcome(status, null, null, 0);
    }

    static Outcome of(Status status, LockEntry entry, long now) {
        return new Outcome(status, entry, null, entry.remainingMillis(now));
    }
}
