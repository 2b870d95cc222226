package dev.locking.zookeeper;

import static dev.locking.spi.LockingProvider.EXECUTE_OWNER_PREFIX;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Where the provider keeps what, under its namespace, and which owners have an index there.
 *
 * <pre>
 * /locks/&lt;key&gt;               one node per held key
 * /owners/&lt;owner&gt;             a container node per named {@code acquire} owner
 * /owners/&lt;owner&gt;/&lt;key&gt;       the owner index: one empty node per key the owner holds
 * </pre>
 * Keys and owners are single segments made by {@link Segments#encode}; the instance markers are in
 * {@link InstanceMarkers}.
 */
final class LockPaths {
    static final String LOCKS = "/locks";
    static final String OWNERS = "/owners";
    /** Why a lock node (or an index entry) with children is not one of ours (words that follow "the node"). */
    static final String HAS_CHILDREN = "has child nodes, which lp_zookeeper never creates";

    private LockPaths() {}

    static String lockPath(String key) {
        return LOCKS + "/" + Segments.encode(key);
    }

    static List<String> lockPaths(List<String> keys) {
        List<String> paths = new ArrayList<>(keys.size());
        for (String key : keys) {
            paths.add(lockPath(key));
        }
        return paths;
    }

    static String ownerPath(String ownerId) {
        return OWNERS + "/" + Segments.encode(ownerId);
    }

    static String indexPath(String ownerId, String key) {
        return ownerPath(ownerId) + "/" + Segments.encode(key);
    }

    /** Whether the owner is one of the core's {@code execute} owners, whose locks are ephemeral. */
    static boolean isExecuteOwner(@Nullable String ownerId) {
        return ownerId != null && ownerId.startsWith(EXECUTE_OWNER_PREFIX);
    }

    /** Whether the owner's locks are listed under {@code /owners} (named owners of {@code acquire} only). */
    static boolean hasIndex(@Nullable String ownerId) {
        return ownerId != null && !isExecuteOwner(ownerId);
    }
}
