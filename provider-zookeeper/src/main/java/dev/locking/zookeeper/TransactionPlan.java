package dev.locking.zookeeper;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;

/**
 * The operations of one ZooKeeper transaction, each with what it is for, so that a refused transaction
 * says which operation failed and why ({@link Failure}).
 *
 * <p>Every write conditional on a node that was read carries the version read and deletes or checks the
 * node's {@linkplain InstanceMarkers instance marker}, so the transaction fails as a whole if the node
 * changed or was replaced since. Used by one thread, for one attempt of one call.
 */
final class TransactionPlan {
    /** What an operation of the plan is for. */
    enum Kind {
        LOCK_CREATE, LOCK_DELETE, LOCK_SET, LOCK_CHECK, MARKER_CREATE, MARKER_DELETE, MARKER_CHECK,
        INDEX_CREATE, INDEX_DELETE, CONTAINER_CREATE, PROBE
    }

    /**
     * One operation of a transaction, kept to interpret a failure; for an operation on a node that was read,
     * its key (when known) and the czxid it had then.
     */
    record Step(Kind kind, String path, @Nullable String key, @Nullable String lockPath, long czxid) {}

    /** Why a transaction failed: the first operation that failed and its error. */
    record Failure(Step step, KeeperException.Code code, KeeperException cause) {
        /** Failures that mean "the nodes changed since they were read" are retried; others are thrown. */
        void rethrowUnlessRetryable() throws KeeperException {
            switch (code) {
                case NODEEXISTS, NONODE, BADVERSION, NOTEMPTY -> {
                    // retried
                }
                default -> throw cause;
            }
        }

        /** Whether the failing operation is of this kind and failed with this code. */
        boolean is(Kind kind, KeeperException.Code code) {
            return step.kind == kind && this.code == code;
        }
    }

    private final CuratorFramework ns;
    private final List<CuratorOp> ops = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    private @Nullable List<CuratorTransactionResult> results;

    TransactionPlan(CuratorFramework ns) {
        this.ns = ns;
    }

    boolean isEmpty() {
        return ops.isEmpty();
    }

    /** Creates a lock node and its instance marker, in the same mode. */
    void createLock(String path, byte[] data, CreateMode mode, String instance) throws Exception {
        add(Kind.LOCK_CREATE, path, ns.transactionOp().create().withMode(mode).forPath(path, data));
        String marker = InstanceMarkers.path(path, instance);
        add(Kind.MARKER_CREATE, marker, ns.transactionOp().create().withMode(mode).forPath(marker));
    }

    /** Deletes the node instance that was read (version and marker), with its marker. */
    void deleteLock(@Nullable String key, String path, LockNode node) throws Exception {
        add(new Step(Kind.LOCK_DELETE, path, key, path, node.stat().getCzxid()),
                ns.transactionOp().delete().withVersion(node.stat().getVersion()).forPath(path));
        String instance = node.data().instance();
        if (!instance.isEmpty()) {
            String marker = InstanceMarkers.path(path, instance);
            add(new Step(Kind.MARKER_DELETE, marker, key, path, node.stat().getCzxid()),
                    ns.transactionOp().delete().forPath(marker));
        }
    }

    /** Sets the data of the node instance that was read. */
    void setData(String key, String path, byte[] data, LockNode node) throws Exception {
        add(new Step(Kind.LOCK_SET, path, key, path, node.stat().getCzxid()),
                ns.transactionOp().setData().withVersion(node.stat().getVersion()).forPath(path, data));
        checkMarker(key, path, node);
    }

    /** Checks that the node at the path is still the instance that was read, unchanged. */
    void check(String key, String path, LockNode node) throws Exception {
        add(new Step(Kind.LOCK_CHECK, path, key, path, node.stat().getCzxid()),
                ns.transactionOp().check().withVersion(node.stat().getVersion()).forPath(path));
        checkMarker(key, path, node);
    }

    private void checkMarker(String key, String path, LockNode node) throws Exception {
        String marker = InstanceMarkers.path(path, node.data().instance());
        add(new Step(Kind.MARKER_CHECK, marker, key, path, node.stat().getCzxid()),
                ns.transactionOp().check().forPath(marker));
    }

    void createContainer(String path) throws Exception {
        add(Kind.CONTAINER_CREATE, path, ns.transactionOp().create().withMode(CreateMode.CONTAINER).forPath(path));
    }

    void createIndex(String path, CreateMode mode) throws Exception {
        add(Kind.INDEX_CREATE, path, ns.transactionOp().create().withMode(mode).forPath(path, new byte[0]));
    }

    void deleteIndex(@Nullable String key, String path) throws Exception {
        add(new Step(Kind.INDEX_DELETE, path, key, null, 0), ns.transactionOp().delete().forPath(path));
    }

    /** A setData (version 0) on a node created earlier in this transaction: its stat carries the czxid. */
    void probe(String path, byte[] data) throws Exception {
        add(Kind.PROBE, path, ns.transactionOp().setData().withVersion(0).forPath(path, data));
    }

    private void add(Kind kind, String path, CuratorOp op) {
        add(new Step(kind, path, null, null, 0), op);
    }

    private void add(Step step, CuratorOp op) {
        ops.add(op);
        steps.add(step);
    }

    /** Commits; returns null on success, or the failing step for a transaction ZooKeeper refused. */
    @Nullable Failure commit() throws Exception {
        try {
            results = ns.transaction().forOperations(ops);
            return null;
        } catch (KeeperException e) {
            List<OpResult> opResults = e.getResults();
            if (opResults == null) {
                throw e; // not a refused transaction: connection loss and the like
            }
            for (int i = 0; i < opResults.size() && i < steps.size(); i++) {
                if (opResults.get(i) instanceof OpResult.ErrorResult error) {
                    int err = error.getErr();
                    if (err != KeeperException.Code.OK.intValue()
                            && err != KeeperException.Code.RUNTIMEINCONSISTENCY.intValue()) {
                        return new Failure(steps.get(i), KeeperException.Code.get(err), e);
                    }
                }
            }
            throw e;
        }
    }

    /** The czxid reported by the {@link #probe}, which is the zxid of the committed transaction. */
    long probedCzxid() {
        List<CuratorTransactionResult> r = Objects.requireNonNull(results);
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).kind == Kind.PROBE) {
                Stat stat = r.get(i).getResultStat();
                if (stat != null) {
                    return stat.getCzxid();
                }
            }
        }
        throw new IllegalStateException("the transaction reported no stat for its probe");
    }
}
