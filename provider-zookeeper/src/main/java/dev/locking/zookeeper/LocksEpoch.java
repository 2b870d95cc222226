package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.LOCKS;

import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code releaseAll()} epoch: the data version of {@code /locks} as last read, or -1 before it was read.
 * {@code releaseAll()} bumps it before and after deleting nodes, so a transaction that checks the value read
 * before its nodes were created fails if a {@code releaseAll()} may have deleted them since (see
 * {@link UnreadRelease}).
 *
 * <p>Concurrency: one volatile int; the last write wins, and any value read is one the node had.
 */
final class LocksEpoch {
    private static final Logger log = LoggerFactory.getLogger(LocksEpoch.class);

    private final String id;
    private volatile int version = -1;

    LocksEpoch(String id) {
        this.id = id;
    }

    /** The version last read, or -1 before it was read. */
    int get() {
        return version;
    }

    /** Reads the version again (after a check of it failed: a {@code releaseAll()} ran since). */
    void refresh(CuratorFramework ns) {
        try {
            Stat stat = ns.checkExists().forPath(LOCKS);
            if (stat != null) {
                version = stat.getVersion();
            }
        } catch (Exception e) {
            log.debug("{}: could not read the version of /{}{}: {}", id, ns.getNamespace(), LOCKS, e.toString());
        }
    }

    /** Bumps the version: every release that checks an older one fails and reads. */
    void bump(CuratorFramework ns) throws Exception {
        try {
            version = ns.setData().forPath(LOCKS, new byte[0]).getVersion();
        } catch (KeeperException.NoNodeException e) {
            // No locks at all.
        }
    }
}
