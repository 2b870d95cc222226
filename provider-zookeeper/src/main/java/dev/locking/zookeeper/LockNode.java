package dev.locking.zookeeper;

import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;

/**
 * A lock node as read: its data, its stat (version, czxid, ephemeral owner, children) and, for a node that
 * is not a lock of this provider, why not (words that follow "the node"); else {@code problem} is null.
 */
record LockNode(LockData data, Stat stat, @Nullable String problem) {
    static LockNode of(byte @Nullable [] bytes, Stat stat) {
        String problem = LockData.problem(bytes);
        if (problem == null && stat.getNumChildren() > 0) {
            problem = LockPaths.HAS_CHILDREN; // a lock node never has children (ephemeral ones cannot)
        }
        return new LockNode(LockData.parse(bytes), stat, problem);
    }
}
