package dev.locking.zookeeper;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * What a lock node holds: its owner, when its lease lapses and the id of this node instance.
 *
 * <p>Stored as UTF-8 text so that an operator can read it with {@code zkCli get}:
 * <pre>
 * locking-v2
 * 1767225600000        (expiry, epoch milliseconds of the writer's wall clock; "-" for never)
 * 3f1c0e...-4b.17      (the instance id: nonce of the acquire call that created the node, "." and a number)
 * =order-service-7     ("=" then the owner id, which may contain anything; "-" alone for anonymous)
 * </pre>
 * The instance id never changes while the node lives (a re-entry or a renewal keeps it) and is never used
 * for another node: it names the node's {@linkplain InstanceMarkers instance marker}. Data in any other
 * form was not written by this provider (or by its first version, {@code locking-v1}, which had no
 * markers); {@link #problem} says so, and calls on such a key fail instead of guessing. {@link #parse}
 * reads such data as an anonymous lock that never expires (what a waiter assumes).
 *
 * @param owner           the owner id, or {@code null} for an anonymous lock
 * @param expiresAtMillis the expiry in epoch milliseconds, or {@link #NEVER}
 * @param instance        the id of the node instance (empty for data that is not ours)
 */
record LockData(@Nullable String owner, long expiresAtMillis, String instance) {
    /** The expiry of a lock that never lapses. */
    static final long NEVER = Long.MAX_VALUE;

    private static final String MAGIC = "locking-v2";
    private static final String LEGACY_MAGIC = "locking-v1";

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

    /** Whether the node was created by the acquire call with this nonce (see {@link InstanceMarkers#newId}). */
    boolean createdBy(String callNonce) {
        return InstanceMarkers.isFromCall(instance, callNonce);
    }

    /** This lock with another expiry (same owner, same instance). */
    LockData withExpiry(long millis) {
        return new LockData(owner, millis, instance);
    }

    byte[] toBytes() {
        String text = MAGIC + '\n'
                + (expiresAtMillis == NEVER ? "-" : Long.toString(expiresAtMillis)) + '\n'
                + instance + '\n'
                + (owner == null ? "-" : "=" + owner);
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** The lock the bytes hold; data that is not ours reads as an anonymous lock that never expires. */
    static LockData parse(byte @Nullable [] bytes) {
        LockData data = parseOrNull(bytes, MAGIC);
        return data == null ? new LockData(null, NEVER, "") : data;
    }

    /**
     * Why the data of a lock node is not a lock of this provider, as words that follow "the node";
     * {@code null} when it is one.
     */
    static @Nullable String problem(byte @Nullable [] bytes) {
        if (parseOrNull(bytes, MAGIC) != null) {
            return null;
        }
        if (isLegacy(bytes)) {
            return "was written by an earlier lp_zookeeper (locking-v1, without an instance marker)";
        }
        return "holds data that lp_zookeeper did not write (" + (bytes == null ? "none" : bytes.length + " bytes") + ")";
    }

    /** Whether the bytes are a lock of this provider's first version, which {@code releaseAll()} may delete. */
    static boolean isLegacy(byte @Nullable [] bytes) {
        return parseOrNull(bytes, LEGACY_MAGIC) != null;
    }

    private static @Nullable LockData parseOrNull(byte @Nullable [] bytes, String magic) {
        if (bytes == null) {
            return null;
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        int a = text.indexOf('\n');
        int b = a < 0 ? -1 : text.indexOf('\n', a + 1);
        int c = b < 0 ? -1 : text.indexOf('\n', b + 1);
        if (c < 0 || !magic.equals(text.substring(0, a))) {
            return null;
        }
        String expiry = text.substring(a + 1, b);
        long expiresAt;
        if ("-".equals(expiry)) {
            expiresAt = NEVER;
        } else {
            try {
                expiresAt = Long.parseLong(expiry);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        String instance = text.substring(b + 1, c);
        String ownerField = text.substring(c + 1);
        String owner;
        if ("-".equals(ownerField)) {
            owner = null;
        } else if (ownerField.startsWith("=")) {
            owner = ownerField.substring(1);
        } else {
            return null;
        }
        return new LockData(owner, expiresAt, instance);
    }
}
