package dev.locking.zookeeper;

import dev.locking.spi.support.Leases;
import dev.locking.zookeeper.KeyQueues.Entry;
import dev.locking.zookeeper.KeyQueues.KeyView;
import java.time.Duration;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.jspecify.annotations.Nullable;

/**
 * The hand-off: what a transaction that deletes a key's lock node adds so that the key goes to the first
 * live owner in the key's queue, in the same transaction, and is never free in between.
 *
 * <p>ZooKeeper cannot create an ephemeral node for another session, so the lock node a hand-off creates is
 * PERSISTENT, owned by the waiting owner, with the short lease {@link QueueEntry#grantLeaseMillis()} (the
 * shorter of its lease and its stay): if that owner died while it queued, the key is blocked for at most its
 * stay. The node's instance id is made from the entry's nonce ({@link QueueEntry#grantInstance()}), which
 * the waiting owner knows: it claims the grant with one transaction that checks that marker and replaces the
 * node with an ephemeral node of its own session and its full lease, whose czxid is its fencing token
 * ({@link QueueWaits}).
 *
 * <p>The transaction deletes the granted entry whatever its version (a refresh does not matter) but fails if
 * it is gone (its owner left the queue meanwhile); lapsed entries ahead of it are deleted with the version
 * read (a refresh since fails the transaction, which reads again). A waiter that joined the queue after the
 * read changed the queue node's version (see {@link KeyQueues}), which the transaction checks, so it fails
 * and the release reads again: no waiter is left behind a key that was freed. The one gap: a queue that had
 * no node when the release read it (the first waiter of a key, or the server reaped the empty container) is
 * not checked; a waiter that joins it then notices the free key through its watch on the lock node (the
 * head of a queue watches it) or at its next call, one wait slice later at most.
 *
 * <p>Stateless.
 */
final class HandOff {
    /** At most this many entries are read and planned by one hand-off (lapsed ones deleted, one granted). */
    private static final int MAX_ENTRIES = 64;

    private HandOff() {}

    /**
     * Plans the hand-off of a key whose lock node {@code plan} deletes.
     *
     * @param leaving an owner whose own entry, if any, goes too (the releasing owner)
     * @param strict  whether a node in the queue that is not an entry of this provider fails the call (with
     *                nothing written); else the hand-off stops there and the key is left free
     * @return the owner the key is handed to, or {@code null} if nobody live queues
     */
    static @Nullable String plan(CuratorFramework ns, TransactionPlan plan, KeyView view, long nowMillis,
            @Nullable String leaving, ZookeeperFailures failures, String action, boolean strict) throws Exception {
        view.checkNoJoin(plan);
        if (view.entries().isEmpty()) {
            return null;
        }
        List<String> names = view.entries().subList(0, Math.min(MAX_ENTRIES, view.entries().size()));
        for (Entry entry : KeyQueues.readEntries(ns, view.queuePath(), names)) {
            QueueEntry data = entry.data();
            if (data == null) {
                if (strict) {
                    throw failures.foreignEntry(view.key(), entry.path(), action);
                }
                return null;
            }
            if (data.owner().equals(leaving)) {
                plan.deleteEntry(entry.path(), -1);
            } else if (data.lapsedAt(nowMillis)) {
                plan.deleteEntry(entry.path(), entry.stat().getVersion());
            } else {
                long expiry = Leases.expiryMillis(nowMillis, Duration.ofMillis(data.grantLeaseMillis()));
                LockData grant = new LockData(data.owner(), expiry, data.grantInstance());
                plan.createLock(view.lockPath(), grant.toBytes(), CreateMode.PERSISTENT, data.grantInstance());
                plan.deleteEntry(entry.path(), -1);
                return data.owner();
            }
        }
        return null;
    }
}
