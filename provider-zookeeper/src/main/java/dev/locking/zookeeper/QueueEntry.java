package dev.locking.zookeeper;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * What a queue entry holds: the waiting owner, when the entry lapses, the lease the owner gets when the key
 * is handed to it, and the entry's nonce, which names the instance of the lock node a hand-off creates for
 * it (see {@link #grantInstance}).
 *
 * <p>Stored as UTF-8 text, readable with {@code zkCli get}:
 * <pre>
 * locking-q1
 * 1767225604000        (when the entry lapses: epoch milliseconds of the writer's wall clock)
 * 30000                (the lease the owner asked for, milliseconds)
 * 4000                 (its stay: how long the entry lasts after each call, milliseconds)
 * 9b2e...              (the entry's nonce, a random UUID; a refresh keeps it)
 * =exec:svc:17         ("=" then the owner id, which may contain anything)
 * </pre>
 * Data in any other form was not written by this provider: {@link #parse} answers {@code null} and the call
 * that reads it fails without writing (see {@link ZookeeperFailures#foreignEntry}).
 *
 * @param owner       the waiting owner
 * @param lapseMillis when the entry lapses unless the owner calls again
 * @param leaseMillis the lease the owner asked for
 * @param stayMillis  how long the entry lasts after each call of its owner
 * @param nonce       the entry's random id
 */
record QueueEntry(String owner, long lapseMillis, long leaseMillis, long stayMillis, String nonce) {
    private static final String MAGIC = "locking-q1";

    /** Whether the entry has lapsed at {@code nowMillis}: a hand-off skips it. */
    boolean lapsedAt(long nowMillis) {
        return lapseMillis <= nowMillis;
    }

    /** The instance id of the lock node a hand-off creates for this entry: new for every entry. */
    String grantInstance() {
        return nonce + ".g";
    }

    /**
     * The lease of a grant: the shorter of the owner's lease and its stay, so that a key handed to an owner
     * that died while it queued is blocked for at most its stay; the owner's first call after the grant
     * renews it to its full lease.
     */
    long grantLeaseMillis() {
        return Math.min(leaseMillis, stayMillis);
    }

    byte[] toBytes() {
        return (MAGIC + '\n' + lapseMillis + '\n' + leaseMillis + '\n' + stayMillis + '\n' + nonce + "\n=" + owner)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The entry the bytes hold, or {@code null} for data this provider did not write. */
    static @Nullable QueueEntry parse(byte @Nullable [] bytes) {
        if (bytes == null) {
            return null;
        }
        String[] parts = new String(bytes, StandardCharsets.UTF_8).split("\n", 6);
        if (parts.length != 6 || !MAGIC.equals(parts[0]) || parts[4].isEmpty() || !parts[5].startsWith("=")) {
            return null;
        }
        try {
            return new QueueEntry(parts[5].substring(1), Long.parseLong(parts[1]), Long.parseLong(parts[2]),
                    Long.parseLong(parts[3]), parts[4]);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
