package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.LOCKS;
import static dev.locking.zookeeper.LockPaths.lockPath;

import dev.locking.spi.support.LockingClock;
import dev.locking.zookeeper.ExecuteOwnerHolds.Hold;
import dev.locking.zookeeper.ExecuteOwnerHolds.Unread;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Releases the keys an {@code execute} owner took with one acquire, without reading them first: one
 * transaction that deletes each node with the version it was created with, and checks that {@code /locks}
 * still has the {@linkplain LocksEpoch epoch} read before the nodes were created.
 *
 * <p>Why no other client's node can be deleted by mistake (a node created again after ours was deleted
 * starts again at version 0): the nodes are ephemeral nodes of the session this call still runs in,
 * so ZooKeeper has not deleted them; the lease has not lapsed by this client's clock (with a margin),
 * so no other client took them over (clients' clocks must agree, as everywhere in this provider); no
 * other client can release them, since their owner id exists only here; and {@code releaseAll()},
 * which deletes nodes without looking, bumps the epoch after its deletions, which fails the check.
 * The transaction is sent on the raw handle without Curator's retry, so it can never be replayed in
 * a later session. Whenever anything is not as remembered, nothing is deleted and the caller reads.
 *
 * <p>Concurrency: no state of its own; it reads the thread-safe {@link ExecuteOwnerHolds} and
 * {@link LocksEpoch}.
 */
final class UnreadRelease {
    private static final Logger log = LoggerFactory.getLogger(UnreadRelease.class);

    /** A release skips reading only when the lease has at least this long left by this client's clock. */
    private static final long MARGIN_MILLIS = 1_000;

    private final String id;
    private final LockingClock clock;
    private final ExecuteOwnerHolds holds;
    private final LocksEpoch epoch;
    private final LongSupplier sessionGeneration;

    UnreadRelease(String id, LockingClock clock, ExecuteOwnerHolds holds, LocksEpoch epoch,
            LongSupplier sessionGeneration) {
        this.id = id;
        this.clock = clock;
        this.holds = holds;
        this.epoch = epoch;
        this.sessionGeneration = sessionGeneration;
    }

    /**
     * Releases the keys without reading them, if this owner's hold says how.
     *
     * @return true if every key was released; false if the caller must read and decide
     */
    boolean released(CuratorFramework ns, List<String> keys, @Nullable String ownerId) throws InterruptedException {
        if (ownerId == null || !LockPaths.isExecuteOwner(ownerId)) {
            return false;
        }
        Hold hold = holds.get(ownerId);
        Unread unread = hold == null ? null : hold.unread();
        if (hold == null || unread == null || hold.generation() != sessionGeneration.getAsLong()
                || !unread.versions().keySet().equals(Set.copyOf(keys))
                || clock.currentTimeMillis() >= unread.expiresAtMillis() - MARGIN_MILLIS) {
            return false;
        }
        CuratorZookeeperClient client = ns.getZookeeperClient();
        String base = ns.getNamespace();
        List<Op> ops = new ArrayList<>(2 * keys.size() + 1);
        ops.add(Op.check(ZKPaths.fixForNamespace(base, LOCKS), unread.epoch()));
        for (String key : keys) {
            int version = Objects.requireNonNull(unread.versions().get(key));
            String lockPath = lockPath(key);
            ops.add(Op.delete(ZKPaths.fixForNamespace(base, lockPath), version));
            ops.add(Op.delete(ZKPaths.fixForNamespace(base, InstanceMarkers.path(lockPath, unread.instance())), -1));
        }
        try {
            ZooKeeper zk = client.getZooKeeper();
            if (!client.isConnected() || zk.getSessionId() != unread.sessionId()) {
                return false;
            }
            zk.multi(ops);
        } catch (KeeperException e) {
            List<OpResult> results = e.getResults();
            if (results != null && !results.isEmpty() && results.get(0) instanceof OpResult.ErrorResult first
                    && first.getErr() != KeeperException.Code.OK.intValue()) {
                epoch.refresh(ns); // a releaseAll() ran since we last looked
            }
            log.debug("{}: releasing {} for {} without reading failed ({}); reading", id, keys, ownerId, e.code());
            return false;
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            // No handle (closing, reconnecting): the reading path waits for a connection or reports it.
            return false;
        }
        holds.released(ownerId, keys);
        log.debug("{}: released {} for {} (without reading)", id, keys, ownerId);
        return true;
    }
}
