package dev.locking.zookeeper;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What a lock node holds: its owner, when its lease lapses and the nonce of the attempt that wrote it.
 *
 * <p>Stored as UTF-8 text so that an operator can read it with {@code zkCli get}:
 * <pre>
 * locking-v1
 * 1767225600000        (expiry, epoch milliseconds of the writer's wall clock; "-" for never)
 * 3f1c0e...            (nonce of the acquire attempt)
 * =order-service-7     ("=" then the owner id, which may contain anything; "-" alone for anonymous)
 * </pre>
 * A node whose data is not in this form (written by something else) reads as an anonymous lock that
 * never expires: nobody re-enters it, anybody may release it.
 *
 * @param owner           the owner id, or {@code null} for an anonymous lock
 * @param expiresAtMillis the expiry in epoch milliseconds, or {@link #NEVER}
 * @param nonce           identifies the acquire attempt that created or last wrote the node
 */
record LockData(@Nullable String owner, long expiresAtMillis, String nonce) {
    /** The expiry of a lock that never lapses. */
    static final long NEVER = Long.MAX_VALUE;

    private static final String MAGIC = "locking-v1";

    /** Whether the lease has lapsed at {@code nowMillis}: the key is then free. */
    boolean lapsedAt(long nowMillis) {
        return expiresAtMillis <= nowMillis;
    }

    /** The expiry as an instant, or {@code null} for never. */
    @Nullable Instant expiresAt() {
        return expiresAtMillis == NEVER ? null : Instant.ofEpochMilli(expiresAtMillis);
    }

    /** Whether the given non-null owner is this lock's owner. */
    boolean ownedBy(@Nullable String ownerId) {
        return ownerId != null && ownerId.equals(owner);
    }

    /** This lock with another expiry. */
    LockData withExpiry(long millis) {
        return new LockData(owner, millis, nonce);
    }

    byte[] toBytes() {
        String text = MAGIC + '\n'
                + (expiresAtMillis == NEVER ? "-" : Long.toString(expiresAtMillis)) + '\n'
                + nonce + '\n'
                + (owner == null ? "-" : "=" + owner);
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static LockData parse(byte @Nullable [] bytes) {
        if (bytes == null) {
            return foreign();
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        int a = text.indexOf('\n');
        int b = a < 0 ? -1 : text.indexOf('\n', a + 1);
        int c = b < 0 ? -1 : text.indexOf('\n', b + 1);
        if (c < 0 || !MAGIC.equals(text.substring(0, a))) {
            return foreign();
        }
        String expiry = text.substring(a + 1, b);
        long expiresAt;
        if ("-".equals(expiry)) {
            expiresAt = NEVER;
        } else {
            try {
                expiresAt = Long.parseLong(expiry);
            } catch (NumberFormatException e) {
                return foreign();
            }
        }
        String nonce = text.substring(b + 1, c);
        String ownerField = text.substring(c + 1);
        String owner;
        if ("-".equals(ownerField)) {
            owner = null;
        } else if (ownerField.startsWith("=")) {
            owner = ownerField.substring(1);
        } else {
            return foreign();
        }
        return new LockData(owner, expiresAt, nonce);
    }

    private static LockData foreign() {
        return new LockData(null, NEVER, "");
    }
}
