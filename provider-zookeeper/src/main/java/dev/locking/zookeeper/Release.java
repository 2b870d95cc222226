package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.hasIndex;
import static dev.locking.zookeeper.LockPaths.indexPath;

import dev.locking.spi.support.LockingClock;
import dev.locking.zookeeper.KeyQueues.KeyView;
import dev.locking.zookeeper.TransactionPlan.Failure;
import dev.locking.zookeeper.TransactionPlan.Kind;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code release} as one transaction that reads first: it deletes the keys held by the owner (or
 * anonymously) with the versions read and their markers and index entries, and hands each key that has live
 * waiters to the first of them ({@link HandOff}) in the same transaction.
 *
 * <p>A key found missing, or not this owner's, is read again after a transaction of this call before the
 * answer says so: the read may come from a server that lags behind (see {@link FreshReads}).
 *
 * <p>Concurrency: no state of its own; it updates the thread-safe {@link ExecuteOwnerHolds}.
 */
final class Release {
    private static final Logger log = LoggerFactory.getLogger(Release.class);

    private final String id;
    private final LockingClock clock;
    private final ExecuteOwnerHolds holds;
    private final ZookeeperFailures failures;

    Release(String id, LockingClock clock, ExecuteOwnerHolds holds, ZookeeperFailures failures) {
        this.id = id;
        this.clock = clock;
        this.holds = holds;
        this.failures = failures;
    }

    /** Releases the keys; true only if every one was held by the owner (or anonymously) and released. */
    boolean release(CuratorFramework ns, List<String> keys, @Nullable String ownerId) throws Exception {
        Set<String> missingIndex = new HashSet<>();
        boolean written = false;
        for (int attempt = 1; ; attempt++) {
            long now = clock.currentTimeMillis();
            TransactionPlan plan = new TransactionPlan(ns);
            boolean all = true;
            List<String> releasing = new ArrayList<>();
            List<String> handedTo = new ArrayList<>();
            List<KeyView> views = KeyQueues.read(ns, keys);
            failures.refuseForeign(keys, views.stream().map(KeyView::lock).toList(), "release");
            for (KeyView view : views) {
                String key = view.key();
                LockNode node = view.lock();
                String holder = node == null ? null : node.data().owner();
                if (node == null || (holder != null && !holder.equals(ownerId))) {
                    all = false; // not held, or not releasable by this owner
                    continue;
                }
                if (node.data().lapsedAt(now)) {
                    all = false; // not held any more; delete the leftover node all the same
                } else {
                    releasing.add(key);
                }
                plan.deleteLock(key, view.lockPath(), node);
                if (holder != null && hasIndex(holder)) {
                    String index = indexPath(holder, key);
                    if (!missingIndex.contains(index)) {
                        plan.deleteIndex(key, index);
                    }
                }
                String next = HandOff.plan(ns, plan, view, now, ownerId, failures, "release", true);
                if (next != null) {
                    handedTo.add(key + " to " + next);
                }
            }
            if (!all && !written) {
                FreshReads.barrier(ns);
                written = true;
                continue;
            }
            if (plan.isEmpty()) {
                holds.released(ownerId, keys);
                log.debug("{}: released nothing of {} for {}", id, keys, ownerId);
                return false;
            }
            Failure failure = plan.commit();
            written = true;
            if (failure == null) {
                holds.released(ownerId, keys);
                log.debug("{}: released {} of {} for {}{}", id, releasing, keys, ownerId,
                        handedTo.isEmpty() ? "" : ", handed " + handedTo);
                return all;
            }
            if (failure.is(Kind.INDEX_DELETE, KeeperException.Code.NONODE)) {
                missingIndex.add(failure.step().path());
            }
            failures.refuseLostMarker(ns, failure, "release");
            failures.refuseForeignIndex(failure, "release");
            failure.rethrowUnlessRetryable();
            failures.checkAttempts(attempt, "releasing", keys, failure);
        }
    }
}
