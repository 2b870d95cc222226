package dev.locking.memory;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/** Who holds a key, with which token, until when. Immutable. */
final class LockRecord {
    final @Nullable String owner;
    final long token;
    /** Monotonic deadline; meaningful only when {@link #expiresAt} is not null. */
    final long deadline;
    final @Nullable Instant expiresAt;

    LockRecord(@Nullable String owner, long token, long deadline, @Nullable Instant expiresAt) {
        this.owner = owner;
        this.token = token;
        this.deadline = deadline;
        this.expiresAt = expiresAt;
    }

    boolean isExpired(long now) {
        return expiresAt != null && now - deadline >= 0;
    }
}
