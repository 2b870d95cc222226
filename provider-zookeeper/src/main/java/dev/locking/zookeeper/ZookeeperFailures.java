package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.HAS_CHILDREN;
import static dev.locking.zookeeper.LockPaths.lockPath;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.zookeeper.TransactionPlan.Failure;
import dev.locking.zookeeper.TransactionPlan.Kind;
import dev.locking.zookeeper.TransactionPlan.Step;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.jspecify.annotations.Nullable;

/**
 * Turns what ZooKeeper and Curator throw into this library's exceptions, and refuses calls on nodes that are
 * not locks of this provider, with messages that name the provider, the action, the keys and the namespace
 * (never the connect string's servers nor the credentials).
 *
 * <p>Concurrency: immutable apart from the provider's closed flag, which it only reads.
 */
final class ZookeeperFailures {
    /** How often one operation re-reads and retries after a concurrent change made its transaction fail. */
    static final int MAX_ATTEMPTS = 25;

    private final String id;
    private final String namespace;
    private final @Nullable ZookeeperOptions options;
    private final BooleanSupplier closed;

    ZookeeperFailures(String id, String namespace, @Nullable ZookeeperOptions options, BooleanSupplier closed) {
        this.id = id;
        this.namespace = namespace;
        this.options = options;
        this.closed = closed;
    }

    /** The servers and the namespace, as messages and logs may name them (a count, no addresses, no secret). */
    String describe() {
        ZookeeperOptions o = options;
        if (o == null) {
            return "application's CuratorFramework, namespace /" + namespace;
        }
        return o.serverCount() + " server(s), namespace /" + namespace + ", session timeout " + o.sessionTimeout()
                + (o.auth() == null ? "" : ", digest auth");
    }

    /** The exception a call throws for {@code e}; an interrupt is kept set on the current thread. */
    RuntimeException failure(String action, List<String> keys, Exception e) {
        String what = keys.isEmpty() ? action : action + " " + keys;
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new LockingException(id + ": interrupted while " + what, e);
        }
        if (e instanceof LockingException le) {
            return le;
        }
        if (closed.getAsBoolean() && e instanceof IllegalStateException) {
            return new IllegalStateException(id + " is closed", e);
        }
        if (e instanceof KeeperException ke) {
            return switch (ke.code()) {
                case CONNECTIONLOSS, SESSIONEXPIRED, OPERATIONTIMEOUT, SESSIONMOVED, REQUESTTIMEOUT, NOTREADONLY,
                        RECONFIGINPROGRESS -> new ProviderUnavailableException(id + ": ZooKeeper did not answer while "
                                + what + " (" + ke.code() + "; " + describe() + ")", e);
                case NOAUTH, AUTHFAILED, INVALIDACL -> new LockingException(id + ": ZooKeeper refused " + what + " ("
                        + ke.code() + "): check the auth option and the ACL of /" + namespace, e);
                default -> new LockingException(id + ": ZooKeeper failed while " + what + " (" + ke.code() + ")", e);
            };
        }
        return new LockingException(id + ": failed while " + what + ": " + e, e);
    }

    /** Gives up after {@link #MAX_ATTEMPTS} transactions refused because other clients kept changing the nodes. */
    void checkAttempts(int attempt, String action, List<String> keys, Failure failure) {
        if (attempt >= MAX_ATTEMPTS) {
            throw new LockingException(id + ": gave up " + action + " " + keys + " after " + attempt
                    + " attempts: other clients kept changing the nodes (last: " + failure.code() + " on "
                    + failure.step().path() + ")");
        }
    }

    /**
     * Fails a call on keys where a node is not a lock of this provider (foreign data, a node of the first
     * version, or a lock node with children), before anything is written: the call changes nothing.
     */
    void refuseForeign(List<String> keys, List<@Nullable LockNode> nodes, String action) {
        for (int i = 0; i < keys.size(); i++) {
            LockNode node = nodes.get(i);
            String problem = node == null ? null : node.problem();
            if (problem != null) {
                throw foreign(keys.get(i), problem, action);
            }
        }
    }

    LockingException foreign(String key, String problem, String action) {
        return new LockingException(id + ": cannot " + action + " key \"" + key + "\": its node /" + namespace
                + lockPath(key) + " " + problem + ". Nothing was changed; remove that data (or use another"
                + " namespace) to use this key");
    }

    /**
     * After a transaction failed because the instance marker of a node it read was missing: either the node
     * was replaced by another instance (the ABA the markers exist for; the caller reads again), or the node
     * read is still there and its marker is gone (deleted by hand), in which case no write can ever be
     * conditional on it: the call fails naming the key.
     */
    void refuseLostMarker(CuratorFramework ns, Failure failure, String action) throws Exception {
        Step step = failure.step();
        String lockPath = step.lockPath();
        if ((step.kind() != Kind.MARKER_CHECK && step.kind() != Kind.MARKER_DELETE)
                || failure.code() != KeeperException.Code.NONODE || lockPath == null) {
            return;
        }
        LockNode now = FreshReads.read(ns, lockPath, false);
        if (now != null && now.stat().getCzxid() == step.czxid() && ns.checkExists().forPath(step.path()) == null) {
            String problem = "has lost its instance marker " + step.path();
            String key = step.key();
            if (key != null) {
                throw foreign(key, problem, action);
            }
            throw new LockingException(id + ": cannot " + action + " /" + namespace + lockPath + ": the node "
                    + problem + ". Nothing was changed; releaseAll() removes it");
        }
    }

    /** Fails a call whose transaction could not delete an owner index entry because someone put nodes under it. */
    void refuseForeignIndex(Failure failure, String action) {
        Step step = failure.step();
        String key = step.key();
        if (failure.is(Kind.INDEX_DELETE, KeeperException.Code.NOTEMPTY) && key != null) {
            throw new LockingException(id + ": cannot " + action + " key \"" + key + "\": its owner index entry /"
                    + namespace + step.path() + " " + HAS_CHILDREN + ". Nothing was changed; remove those nodes to use"
                    + " this key");
        }
    }
}
