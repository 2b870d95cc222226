package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.LOCKS;

import java.util.ArrayList;
import java.util.List;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.RetryLoop;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;

/**
 * Reads of lock nodes, and the two ways of making them fresh: a {@code sync} sent before a read, and a
 * {@linkplain #barrier barrier} transaction.
 *
 * <p>A read is served by the server this client is connected to, which may not have applied yet a write
 * that was committed and reported to another client: a follower lags behind the leader, and the leader
 * itself applies a commit a moment after its followers may have. Only this session's own writes are sure
 * to be visible. A decision checked by a transaction does not mind (a stale version fails it). An answer
 * given from a read alone must not be older than the call:
 * <ul>
 *   <li>"not there", "not this owner's", "ours already", {@code inspect} and the owner index that
 *       {@code releaseAll(owner)} lists are read after a transaction of the same call (a
 *       {@linkplain #barrier barrier} if the call has none yet);
 *   <li>"held by another" ({@link dev.locking.spi.AcquireResult.Conflict}) is read again with {@code sync}
 *       unless the call has synced or written already: a sync costs no disk write, and conflicts are the
 *       common answer of waiting callers. On a follower this is exact. On the leader, {@code sync} does
 *       nothing, so a key released through another server a moment before may still be reported held; a
 *       waiting caller is then woken by the delete's watch, and an immediate {@code acquire} fails.
 * </ul>
 * The sync is sent just before the read, not waited for: the server answers one session's requests in
 * order, so the read waits for it, and the pair costs about one round trip to the leader.
 *
 * <p>Stateless: every method works on the namespaced client it is given.
 */
final class FreshReads {
    private FreshReads() {}

    /**
     * Reads nodes in one round trip, several keys with one read-only {@code multi} (ZooKeeper 3.6+), so a
     * call on k keys waits for one reply instead of k. The reads of one multi are served together, but
     * like separate reads they are not one snapshot: the versions they return are what the following
     * transaction is checked against, so a node changed in between fails it, as before.
     *
     * @param sync whether to catch up with the leader before reading
     * @return per path its node, or {@code null} where there is none
     */
    static List<@Nullable LockNode> readAll(CuratorFramework ns, List<String> paths, boolean sync)
            throws Exception {
        List<@Nullable LockNode> nodes = new ArrayList<>(paths.size());
        if (paths.size() == 1) {
            nodes.add(read(ns, paths.get(0), sync));
            return nodes;
        }
        String base = ns.getNamespace();
        List<Op> ops = new ArrayList<>(paths.size());
        for (String path : paths) {
            ops.add(Op.getData(ZKPaths.fixForNamespace(base, path)));
        }
        CuratorZookeeperClient client = ns.getZookeeperClient();
        List<OpResult> results;
        try {
            // Curator has no read multi: the raw handle, with Curator's retry loop as its own calls have.
            results = RetryLoop.callWithRetry(client, () -> {
                ZooKeeper zk = client.getZooKeeper();
                if (sync) {
                    sendSync(zk, base);
                }
                return zk.multi(ops);
            });
        } catch (KeeperException e) {
            results = e.getResults();
            if (results == null) {
                throw e;
            }
        }
        for (int i = 0; i < paths.size(); i++) {
            OpResult result = results.get(i);
            if (result instanceof OpResult.GetDataResult data) {
                nodes.add(LockNode.of(data.getData(), data.getStat()));
            } else if (result instanceof OpResult.ErrorResult error
                    && error.getErr() == KeeperException.Code.NONODE.intValue()) {
                nodes.add(null);
            } else {
                int err = result instanceof OpResult.ErrorResult error ? error.getErr()
                        : KeeperException.Code.SYSTEMERROR.intValue();
                throw KeeperException.create(KeeperException.Code.get(err), paths.get(i));
            }
        }
        return nodes;
    }

    /** One node, as {@link #readAll} reads several. */
    static @Nullable LockNode read(CuratorFramework ns, String path, boolean sync) throws Exception {
        if (!sync) {
            Stat stat = new Stat();
            try {
                byte[] bytes = ns.getData().storingStatIn(stat).forPath(path);
                return LockNode.of(bytes, stat);
            } catch (KeeperException.NoNodeException e) {
                return null;
            }
        }
        String base = ns.getNamespace();
        String fullPath = ZKPaths.fixForNamespace(base, path);
        CuratorZookeeperClient client = ns.getZookeeperClient();
        return RetryLoop.callWithRetry(client, () -> {
            ZooKeeper zk = client.getZooKeeper();
            sendSync(zk, base);
            Stat stat = new Stat();
            try {
                return LockNode.of(zk.getData(fullPath, false, stat), stat);
            } catch (KeeperException.NoNodeException e) {
                return null;
            }
        });
    }

    /**
     * Makes this session's next reads reflect every write completed before now, on whichever server: an
     * empty transaction (a version check of {@code /locks} that accepts any version). A transaction goes
     * through the leader in order with every other write, and the server answers this session's later
     * reads only after applying it. It costs one ensemble write; it is used on paths that are not hot.
     */
    static void barrier(CuratorFramework ns) throws Exception {
        String base = ns.getNamespace();
        List<Op> check = List.of(Op.check(ZKPaths.fixForNamespace(base, LOCKS), -1));
        CuratorZookeeperClient client = ns.getZookeeperClient();
        RetryLoop.callWithRetry(client, () -> {
            try {
                return client.getZooKeeper().multi(check);
            } catch (KeeperException.NoNodeException e) {
                return List.<OpResult>of(); // no /locks yet: a refused transaction is in the log all the same
            }
        });
    }

    /**
     * Sends a {@code sync} without waiting for it. Its outcome needs no callback: if it fails (connection
     * lost), so does the read sent after it on the same connection, and the retry loop sends both again.
     */
    private static void sendSync(ZooKeeper zk, String base) {
        zk.sync(ZKPaths.fixForNamespace(base, LOCKS), (rc, path, ctx) -> { }, null);
    }

    /** What a call that has not read yet assumes: that no key has a node. */
    static List<@Nullable LockNode> noNodes(int count) {
        List<@Nullable LockNode> nodes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            nodes.add(null);
        }
        return nodes;
    }
}
