package dev.locking.zookeeper;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * The in-memory index of {@code execute} owners: which keys each holds through this provider, in which
 * session generation it took them, and what its release needs to skip reading them ({@link Unread}).
 *
 * <p>An {@code execute} owner needs no index in ZooKeeper: its id is made by this JVM's core for one call
 * (applications cannot pass such ids, so only the core could ask for {@code releaseAll} of it), and its
 * locks are ephemeral nodes of this provider's session, so no other client can hold locks under it.
 *
 * <p>Concurrency: a {@link ConcurrentHashMap} of immutable {@link Hold}s, each replaced as a whole by
 * atomic {@code merge}/{@code compute} calls; no other state.
 */
final class ExecuteOwnerHolds {
    /**
     * What an {@code execute} owner holds: its keys and the session generation in which it first took keys.
     * Immutable; replaced as a whole.
     */
    record Hold(long generation, Set<String> keys, @Nullable Unread unread) {
        Hold withoutUnread() {
            return unread == null ? this : new Hold(generation, keys, null);
        }
    }

    /**
     * What a release of an {@code execute} owner's keys needs to know to skip reading them: the session
     * that created the nodes, the {@linkplain LocksEpoch epoch} read before they were created, the lease
     * expiry written, each node's version (0, or 1 for the node the czxid probe set) and the nodes' instance id.
     */
    record Unread(long sessionId, int epoch, long expiresAtMillis, Map<String, Integer> versions,
            String instance) {}

    private final ConcurrentHashMap<String, Hold> holds = new ConcurrentHashMap<>();

    /**
     * Records keys an owner took. The first generation stays: keys re-entered in a later session do not make
     * the lost ones valid. A second acquire by the same owner (the core never does one) makes its release read.
     */
    void acquired(String ownerId, long generation, List<String> keys, @Nullable Unread unread) {
        holds.merge(ownerId, new Hold(generation, Set.copyOf(keys), unread),
                (held, added) -> new Hold(held.generation, union(held.keys, added.keys), null));
    }

    /** Forgets how to release without reading (the versions and the expiry change); returns the hold, if any. */
    @Nullable Hold extending(String ownerId) {
        return holds.computeIfPresent(ownerId, (owner, hold) -> hold.withoutUnread());
    }

    @Nullable Hold get(String ownerId) {
        return holds.get(ownerId);
    }

    /** Drops released keys from an {@code execute} owner's hold, and the owner once it holds none. */
    void released(@Nullable String ownerId, List<String> keys) {
        if (LockPaths.isExecuteOwner(ownerId) && ownerId != null) {
            holds.computeIfPresent(ownerId, (owner, hold) -> {
                Set<String> left = new HashSet<>(hold.keys);
                keys.forEach(left::remove);
                return left.isEmpty() ? null : new Hold(hold.generation, Set.copyOf(left), null);
            });
        }
    }

    void remove(String ownerId) {
        holds.remove(ownerId);
    }

    void clear() {
        holds.clear();
    }

    int size() {
        return holds.size();
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
