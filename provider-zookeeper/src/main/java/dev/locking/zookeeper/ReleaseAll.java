package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.HAS_CHILDREN;
import static dev.locking.zookeeper.LockPaths.LOCKS;
import static dev.locking.zookeeper.LockPaths.OWNERS;

import dev.locking.zookeeper.TransactionPlan.Failure;
import dev.locking.zookeeper.TransactionPlan.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code releaseAll}: of one named owner, by walking its index (the cost grows with that owner's locks, not
 * with all locks), or of every lock in the namespace. Nodes that are not locks of this provider are left
 * where they are and named in one WARN.
 *
 * <p>Concurrency: no state of its own; each call works on its own lists.
 */
final class ReleaseAll {
    private static final Logger log = LoggerFactory.getLogger(ReleaseAll.class);

    /**
     * The most keys {@code releaseAll(owner)} releases per transaction (one read and one write per batch
     * instead of per key) ...
     */
    private static final int BATCH = 100;
    /**
     * ... and the most characters of key segments per batch (each key's path is in the read and twice in
     * the transaction), so a request stays far below ZooKeeper's 1 MB packet limit even with the longest
     * keys (9216 characters encoded): about 200 KB.
     */
    private static final int BATCH_CHARS = 64 * 1024;

    private final String id;
    private final String namespace;
    private final ZookeeperFailures failures;
    private final LocksEpoch epoch;

    ReleaseAll(String id, String namespace, ZookeeperFailures failures, LocksEpoch epoch) {
        this.id = id;
        this.namespace = namespace;
        this.failures = failures;
        this.epoch = epoch;
    }

    /** Walks the owner's index only (an owner with an index in ZooKeeper: see {@link LockPaths#hasIndex}). */
    void ofOwner(CuratorFramework ns, String ownerId) throws Exception {
        String container = LockPaths.ownerPath(ownerId);
        // The owner's locks may have been taken through other clients, on other servers.
        FreshReads.barrier(ns);
        List<String> segments = children(ns, container);
        int released = 0;
        List<String> batch = new ArrayList<>();
        int chars = 0;
        for (String segment : segments) {
            if (!batch.isEmpty() && (batch.size() == BATCH || chars + segment.length() > BATCH_CHARS)) {
                released += releaseIndexed(ns, ownerId, container, batch);
                batch = new ArrayList<>();
                chars = 0;
            }
            batch.add(segment);
            chars += segment.length();
        }
        if (!batch.isEmpty()) {
            released += releaseIndexed(ns, ownerId, container, batch);
        }
        log.debug("{}: released every lock of {} ({} locks)", id, ownerId, released);
    }

    /**
     * Releases some keys of an owner's index with one read and one transaction: each key's lock node, if
     * it is still the owner's (with the version read), and its index entry. An index entry that is gone
     * was released concurrently: that key is left out and the rest tried again.
     *
     * @return how many lock nodes were deleted
     */
    private int releaseIndexed(CuratorFramework ns, String ownerId, String container, List<String> segments)
            throws Exception {
        List<String> badIndex = new ArrayList<>();
        for (int attempt = 1; !segments.isEmpty(); attempt++) {
            List<String> paths = new ArrayList<>(segments.size());
            for (String segment : segments) {
                paths.add(ZKPaths.makePath(LOCKS, segment));
            }
            List<@Nullable LockNode> nodes = FreshReads.readAll(ns, paths, false); // after the barrier: fresh
            TransactionPlan plan = new TransactionPlan(ns);
            int owned = 0;
            List<String> foreign = new ArrayList<>(badIndex);
            for (int i = 0; i < segments.size(); i++) {
                LockNode node = nodes.get(i);
                if (node != null && node.problem() != null) {
                    // Not ours to delete: left as it is, with its index entry; the rest is released.
                    foreign.add(paths.get(i) + " " + node.problem());
                    continue;
                }
                if (node != null && node.data().ownedBy(ownerId)) {
                    plan.deleteLock(null, paths.get(i), node);
                    owned++;
                }
                plan.deleteIndex(null, ZKPaths.makePath(container, segments.get(i)));
            }
            if (plan.isEmpty()) {
                warnLeftBehind("releasing the locks of " + ownerId, foreign);
                return 0;
            }
            Failure failure = plan.commit();
            if (failure == null) {
                warnLeftBehind("releasing the locks of " + ownerId, foreign);
                return owned;
            }
            if (failure.is(Kind.INDEX_DELETE, KeeperException.Code.NONODE)) {
                segments.remove(ZKPaths.getNodeFromPath(failure.step().path())); // released concurrently
                continue;
            }
            if (failure.is(Kind.INDEX_DELETE, KeeperException.Code.NOTEMPTY)) {
                // Someone put nodes under an index entry: leave that key (lock and entry) alone, release the rest.
                segments.remove(ZKPaths.getNodeFromPath(failure.step().path()));
                badIndex.add(failure.step().path() + " " + HAS_CHILDREN);
                if (segments.isEmpty()) {
                    warnLeftBehind("releasing the locks of " + ownerId, badIndex);
                }
                continue;
            }
            failures.refuseLostMarker(ns, failure, "release every lock of " + ownerId + " at");
            failure.rethrowUnlessRetryable();
            failures.checkAttempts(attempt, "releasing", segments, failure);
        }
        return 0;

    }

    /**
     * Deletes every lock and index node under the namespace; not one atomic step. It bumps the epoch of
     * {@code /locks} before and after: an {@code execute}'s release that does not read checks it.
     */
    void everything(CuratorFramework ns) throws Exception {
        epoch.bump(ns);
        int released = 0;
        List<String> foreign = new ArrayList<>();
        for (String segment : children(ns, LOCKS)) {
            String problem = deleteOurs(ns, ZKPaths.makePath(LOCKS, segment));
            if (problem == null) {
                released++;
            } else if (!problem.isEmpty()) {
                foreign.add(ZKPaths.makePath(LOCKS, segment) + " " + problem);
            }
        }
        epoch.bump(ns);
        deleteOrphanMarkers(ns, foreign);
        for (String owner : children(ns, OWNERS)) {
            String container = ZKPaths.makePath(OWNERS, owner);
            for (String segment : children(ns, container)) {
                deleteQuietly(ns, ZKPaths.makePath(container, segment), foreign);
            }
        }
        warnLeftBehind("releasing every lock", foreign);
        log.debug("{}: released every lock in /{} ({} locks)", id, namespace, released);
    }

    /**
     * Deletes one node under {@code /locks} if it is a lock of this provider (of this version or the first),
     * with its instance marker; a node changed meanwhile (renewed, say) is read again.
     *
     * @return {@code null} if deleted, {@code ""} if there was none, else why it was left (data that is not
     *         ours, or child nodes: deleting them would touch another program's data)
     */
    private @Nullable String deleteOurs(CuratorFramework ns, String path) throws Exception {
        for (int attempt = 1; ; attempt++) {
            Stat stat = new Stat();
            byte[] bytes;
            try {
                bytes = ns.getData().storingStatIn(stat).forPath(path);
            } catch (KeeperException.NoNodeException e) {
                return "";
            }
            String problem = LockData.problem(bytes);
            if (problem != null && !LockData.isLegacy(bytes)) {
                return problem;
            }
            if (stat.getNumChildren() > 0) {
                return HAS_CHILDREN;
            }
            TransactionPlan plan = new TransactionPlan(ns);
            LockNode node = new LockNode(LockData.parse(bytes), stat, null);
            plan.deleteLock(null, path, node); // a first-version node has no marker: its instance is empty
            Failure failure = plan.commit();
            if (failure == null) {
                return null;
            }
            if (failure.step().kind() == Kind.MARKER_DELETE) {
                // The marker went missing (deleted by hand): delete the lock node alone.
                try {
                    ns.delete().withVersion(stat.getVersion()).forPath(path);
                    return null;
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
                    // Changed meanwhile: read again.
                }
            } else if (failure.code() == KeeperException.Code.NONODE) {
                return "";
            } else {
                failure.rethrowUnlessRetryable();
            }
            failures.checkAttempts(attempt, "releasing every lock at", List.of(path), failure);
        }
    }

    /**
     * Deletes the markers whose lock node instance is gone (left by nodes deleted by hand or by the first
     * version of this provider, which knew no markers). A marker listed here was created before the lock
     * nodes are read, and an instance id is never used again, so a marker whose node reads as absent or as
     * another instance can never become valid again.
     */
    private void deleteOrphanMarkers(CuratorFramework ns, List<String> leftBehind) throws Exception {
        Map<String, String> liveInstance = new HashMap<>();
        for (String name : children(ns, InstanceMarkers.INSTANCES)) {
            String segment = InstanceMarkers.keySegment(name);
            String instance = InstanceMarkers.instance(name);
            if (segment == null || instance == null) {
                continue; // not a marker: not ours to delete
            }
            String live = liveInstance.get(segment);
            if (live == null) {
                LockNode node = FreshReads.read(ns, ZKPaths.makePath(LOCKS, segment), false);
                live = node == null ? "" : node.data().instance();
                liveInstance.put(segment, live);
            }
            if (!instance.equals(live)) {
                deleteQuietly(ns, ZKPaths.makePath(InstanceMarkers.INSTANCES, name), leftBehind);
            }
        }
    }

    /** Logs the nodes a releaseAll had to leave where they are, because they are not locks of this provider. */
    private void warnLeftBehind(String action, List<String> foreign) {
        if (!foreign.isEmpty()) {
            log.warn("{}: {} left {} node(s) in /{} that are not locks of lp_zookeeper (a program other than"
                    + " lp_zookeeper, or a namespace nested in this one, wrote them): {}", id, action, foreign.size(),
                    namespace, foreign.size() > 10 ? foreign.subList(0, 10) + " ..." : foreign);
        }
    }

    private static List<String> children(CuratorFramework ns, String path) throws Exception {
        try {
            return ns.getChildren().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            return List.of();
        }
    }

    /** Deletes a node if it is there; one with children (someone else's) is left and added to {@code leftBehind}. */
    private static void deleteQuietly(CuratorFramework ns, String path, List<String> leftBehind) throws Exception {
        try {
            ns.delete().forPath(path);
        } catch (KeeperException.NoNodeException e) {
            // Gone already.
        } catch (KeeperException.NotEmptyException e) {
            leftBehind.add(path + " " + HAS_CHILDREN);
        }
    }
}
