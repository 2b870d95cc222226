package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.hasIndex;
import static dev.locking.zookeeper.LockPaths.indexPath;
import static dev.locking.zookeeper.LockPaths.lockPath;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import dev.locking.zookeeper.ExecuteOwnerHolds.Unread;
import dev.locking.zookeeper.TransactionPlan.Failure;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tryAcquire} as ZooKeeper transactions: all keys are taken in one transaction, or none.
 *
 * <p>An attempt reads the keys (or, for keys it has no reason to think held, skips the read: a held key
 * fails the create, and the transaction, as a whole), decides per key (ours already: check or renew it;
 * held by another: conflict; lapsed, or left by a lost session of this very owner: take it over; absent:
 * create it), and commits. A refused transaction tells which operation failed ({@link Failure}); the call
 * learns from it (a container or index entry that exists, a key that is held after all, a layout node
 * deleted behind its back) and tries again, a bounded number of times. Each call's writes carry a random
 * nonce so that an attempt whose reply was lost (and was retried by Curator) is recognised as having
 * succeeded.
 *
 * <p>Answers given from a read alone must not be older than the call (see {@link FreshReads}): "held by
 * another" is read again after a sync unless this call has written or synced already; "all ours already"
 * is confirmed by a transaction unless this call has written already.
 *
 * <p>Concurrency: the two hint caches are thread-safe {@link PathCache}s shared by all calls; everything
 * else of a call lives in its own {@link Call}, used by one thread.
 */
final class Acquire {
    private static final Logger log = LoggerFactory.getLogger(Acquire.class);
    private static final int MAX_CACHED_CONTAINERS = 10_000;
    private static final int MAX_CONTESTED = 10_000;

    private final String id;
    private final LockingClock clock;
    private final ZookeeperSession session;
    private final LocksEpoch epoch;
    private final ExecuteOwnerHolds holds;
    private final ZookeeperFailures failures;
    /**
     * Lock paths this provider recently found held: an acquire reads these before it writes, since a create
     * that fails still costs the ensemble a transaction (ZooKeeper logs a failed multi), and waiters retry a
     * held key again and again. Forgotten once this provider creates the key's node; a key it re-entered
     * stays (re-entering fails a create, too).
     */
    private final PathCache contested = new PathCache(MAX_CONTESTED);
    /** Owner containers known to exist: an acquire does not create them again. */
    private final PathCache containers = new PathCache(MAX_CACHED_CONTAINERS);

    Acquire(String id, LockingClock clock, ZookeeperSession session, LocksEpoch epoch, ExecuteOwnerHolds holds,
            ZookeeperFailures failures) {
        this.id = id;
        this.clock = clock;
        this.session = session;
        this.epoch = epoch;
        this.holds = holds;
        this.failures = failures;
    }

    /**
     * One acquire; an interrupt is left to the caller, every other failure is mapped.
     *
     * @param nonce this call's random id; a call run again with the same nonce owns the nodes the first made
     */
    AcquireResult acquire(CuratorFramework ns, List<String> keys, @Nullable String ownerId,
            @Nullable Duration lease, String nonce) throws InterruptedException {
        Call call = new Call(ns, keys, ownerId, lease, nonce);
        try {
            return call.run();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw failures.failure("acquiring", keys, e);
        }
    }

    /** What one acquire call learns across its attempts. */
    private final class Call {
        final CuratorFramework ns;
        final List<String> keys;
        final @Nullable String ownerId;
        final @Nullable Duration lease;
        final String nonce;
        final boolean ephemeral;
        final long generation;
        final List<String> paths;
        /** The owner's container, for an owner with an index in ZooKeeper; else null. */
        final @Nullable String ownerContainer;
        /** Index entries left over by a non-atomic {@code releaseAll()}: deleted before being created again. */
        final Set<String> deleteFirst = new HashSet<>();
        /** A create of the owner's container failed because it exists. */
        boolean containerExists;
        /** Read the keys before writing: a key was found held (by an earlier call or by this one). */
        boolean readFirst;
        /** This call has synced or written: a "held by another" it reads is fresh. */
        boolean fresh;
        /** This call has sent a transaction: an "ours already" it reads is fresh. */
        boolean written;
        /** A "held by another" was read before this call was fresh: reads sync first from now on. */
        boolean syncFirst;

        Call(CuratorFramework ns, List<String> keys, @Nullable String ownerId, @Nullable Duration lease,
                String nonce) {
            this.ns = ns;
            this.keys = keys;
            this.ownerId = ownerId;
            this.lease = lease;
            this.nonce = nonce;
            this.ephemeral = LockPaths.isExecuteOwner(ownerId);
            this.generation = session.generation();
            this.paths = LockPaths.lockPaths(keys);
            this.ownerContainer = ownerId != null && hasIndex(ownerId) ? LockPaths.ownerPath(ownerId) : null;
            this.readFirst = contested.containsAny(paths);
        }

        AcquireResult run() throws Exception {
            for (int attempt = 1; ; attempt++) {
                Attempt a = new Attempt(this);
                List<@Nullable LockNode> nodes = read();
                failures.refuseForeign(keys, nodes, "acquire");
                int held = a.plan(nodes);
                if (held >= 0) {
                    if (!fresh) {
                        syncFirst = true;
                        continue;
                    }
                    contested.add(paths.get(held));
                    log.debug("{}: {} not acquired for {}: held by another owner", id, keys, ownerId);
                    return new AcquireResult.Conflict(keys.get(held));
                }
                if (!a.writes && written) {
                    // Every key is ours already and nothing changes: no transaction needed, since this read
                    // followed this call's own transaction. Before that, the plan's version checks are sent
                    // as one: the read may come from a server that has not applied a delete made elsewhere.
                    return acquired(a.tokens, a.expiresAt, null);
                }
                Failure failure = a.commit();
                // Even a failed transaction: this session's next read sees the ensemble as of it.
                written = true;
                fresh = true;
                if (failure == null) {
                    return succeeded(a);
                }
                learn(failure);
                failure.rethrowUnlessRetryable();
                failures.checkAttempts(attempt, "acquiring", keys, failure);
            }
        }

        /** The nodes as this attempt assumes them: read (after a sync if needed), or all absent. */
        private List<@Nullable LockNode> read() throws Exception {
            if (!readFirst) {
                return FreshReads.noNodes(keys.size());
            }
            List<@Nullable LockNode> nodes = FreshReads.readAll(ns, paths, syncFirst);
            fresh |= syncFirst;
            return nodes;
        }

        private AcquireResult succeeded(Attempt a) {
            if (readFirst) {
                // Keys re-entered stay marked: the next re-entry would fail a create again.
                contested.removeAll(LockPaths.lockPaths(a.created));
            }
            if (!a.created.isEmpty()) {
                long czxid = a.plan.probedCzxid();
                for (String key : a.created) {
                    a.tokens.put(key, czxid);
                }
            }
            if (ownerContainer != null) {
                containers.add(ownerContainer);
            }
            Unread unread = null;
            if (ephemeral && a.epoch >= 0 && a.created.size() == keys.size()) {
                Map<String, Integer> versions = new HashMap<>();
                for (String key : a.created) {
                    versions.put(key, 0);
                }
                versions.put(a.created.get(0), 1); // the probe's setData
                unread = new Unread(a.session, a.epoch, a.newExpiry, Map.copyOf(versions), a.instance);
            }
            return acquired(a.tokens, a.expiresAt, unread);
        }

        /** What a refused transaction says about the nodes, for the next attempt. */
        private void learn(Failure failure) throws Exception {
            String path = failure.step().path();
            KeeperException.Code code = failure.code();
            switch (failure.step().kind()) {
                case CONTAINER_CREATE -> {
                    if (code == KeeperException.Code.NODEEXISTS) {
                        containerExists = true;
                        containers.add(path);
                    }
                }
                case INDEX_CREATE -> {
                    if (code == KeeperException.Code.NODEEXISTS) {
                        deleteFirst.add(path); // left over by a non-atomic releaseAll()
                    } else if (code == KeeperException.Code.NONODE) {
                        // The owner's container was reaped by the server after we saw it: create it again.
                        containerExists = false;
                        containers.remove(ZKPaths.getPathAndNode(path).getPath());
                    }
                }
                case INDEX_DELETE -> {
                    failures.refuseForeignIndex(failure, "acquire");
                    deleteFirst.remove(path);
                }
                case LOCK_CREATE -> {
                    if (code == KeeperException.Code.NODEEXISTS) {
                        // Held (or ours, or lapsed): read the keys and decide, from now on.
                        readFirst = true;
                        contested.add(path);
                    } else if (code == KeeperException.Code.NONODE) {
                        session.layoutLost(ns);
                    }
                }
                case MARKER_CREATE -> {
                    if (code == KeeperException.Code.NONODE) { // /instances deleted behind our back
                        session.layoutLost(ns);
                    }
                }
                default -> {
                    // A lock node changed since we read it: read again.
                    failures.refuseLostMarker(ns, failure, "acquire");
                }
            }
        }

        private AcquireResult acquired(Map<String, Long> tokens, long expiresAt, @Nullable Unread unread) {
            if (ephemeral && ownerId != null) {
                holds.acquired(ownerId, generation, keys, unread);
            }
            Instant expiry = expiresAt == LockData.NEVER ? null : Instant.ofEpochMilli(expiresAt);
            if (log.isDebugEnabled()) {
                log.debug("{}: acquired {} for {} ({}), expires {}, tokens {}", id, keys,
                        ownerId == null ? "anonymous" : ownerId, ephemeral ? "ephemeral" : "persistent",
                        expiry == null ? "never" : expiry, tokens);
            }
            return new AcquireResult.Acquired(tokens, expiry);
        }
    }

    /** One attempt: the clock and session it decides by, and the transaction it plans. */
    private final class Attempt {
        final Call call;
        final long now;
        final long session;
        /** The epoch read before this attempt's transaction: see {@link Unread}. */
        final int epoch;
        final long newExpiry;
        /** One per attempt: never two nodes with one id. */
        final String instance;
        final byte[] data;
        final TransactionPlan plan;
        final Map<String, Long> tokens = new LinkedHashMap<>();
        final List<String> created = new ArrayList<>();
        long expiresAt = LockData.NEVER;
        boolean writes;
        /** The owner's container is there or planned: one create per transaction. */
        boolean containerPlanned;

        Attempt(Call call) throws Exception {
            this.call = call;
            this.now = clock.currentTimeMillis();
            this.session = call.ephemeral ? Acquire.this.session.sessionId() : 0L;
            this.epoch = Acquire.this.epoch.get();
            this.newExpiry = call.lease == null ? LockData.NEVER : Leases.expiryMillis(now, call.lease);
            this.instance = InstanceMarkers.newId(call.nonce);
            this.data = new LockData(call.ownerId, newExpiry, instance).toBytes();
            this.plan = new TransactionPlan(call.ns);
            this.containerPlanned = call.containerExists
                    || (call.ownerContainer != null && containers.contains(call.ownerContainer));
        }

        /**
         * Plans every key, in order, until one is held by another owner.
         *
         * @return the index of the first key held by another owner, or -1 if the plan covers every key
         */
        int plan(List<@Nullable LockNode> nodes) throws Exception {
            for (int i = 0; i < call.keys.size(); i++) {
                LockNode node = nodes.get(i);
                if (node != null && isOurs(node)) {
                    keep(i, node);
                } else if (node != null && isHeldByAnother(node)) {
                    return i;
                } else {
                    if (node != null) {
                        takeOver(i, node);
                    }
                    create(i);
                }
            }
            return -1;
        }

        private boolean isOurs(LockNode node) {
            return (node.data().createdBy(call.nonce) || node.data().ownedBy(call.ownerId))
                    && !node.data().lapsedAt(now)
                    && !(call.ephemeral && node.stat().getEphemeralOwner() != session);
        }

        /** Not ours, not lapsed, and not left by a lost session of this very owner. */
        private boolean isHeldByAnother(LockNode node) {
            boolean deadSessionOfOurs = call.ephemeral && node.data().ownedBy(call.ownerId);
            return !node.data().lapsedAt(now) && !deadSessionOfOurs;
        }

        /** A key this owner holds already (or this call created): renew it with a lease, else check it. */
        private void keep(int i, LockNode node) throws Exception {
            String key = call.keys.get(i);
            tokens.put(key, node.stat().getCzxid());
            if (call.lease != null && !node.data().createdBy(call.nonce)) {
                plan.setData(key, call.paths.get(i), node.data().withExpiry(newExpiry).toBytes(), node);
                expiresAt = Math.min(expiresAt, newExpiry);
                writes = true;
            } else {
                plan.check(key, call.paths.get(i), node);
                expiresAt = Math.min(expiresAt, node.data().expiresAtMillis());
            }
        }

        /** A lapsed node (or one left by a lost session of this owner): delete it, and its old index entry. */
        private void takeOver(int i, LockNode node) throws Exception {
            String key = call.keys.get(i);
            String previousOwner = node.data().owner();
            if (previousOwner != null && hasIndex(previousOwner)) {
                String oldIndex = indexPath(previousOwner, key);
                if (call.ns.checkExists().forPath(oldIndex) != null) {
                    plan.deleteIndex(key, oldIndex);
                    call.deleteFirst.remove(oldIndex);
                }
            }
            // The delete hits only the instance judged lapsed: see InstanceMarkers.
            plan.deleteLock(key, call.paths.get(i), node);
        }

        /** A new lock node (with its marker) and, for an owner with an index, its index entry. */
        private void create(int i) throws Exception {
            String key = call.keys.get(i);
            CreateMode mode = call.ephemeral ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT;
            plan.createLock(call.paths.get(i), data, mode, instance);
            created.add(key);
            writes = true;
            expiresAt = Math.min(expiresAt, newExpiry);
            String container = call.ownerContainer;
            if (call.ownerId != null && container != null) { // an owner with an index in ZooKeeper
                if (!containerPlanned) {
                    plan.createContainer(container);
                    containerPlanned = true;
                }
                String index = indexPath(call.ownerId, key);
                if (call.deleteFirst.contains(index)) {
                    plan.deleteIndex(key, index);
                }
                plan.createIndex(index, mode);
            }
        }

        /** Commits the plan; a setData in the same transaction reports its zxid: the new czxid. */
        @Nullable Failure commit() throws Exception {
            if (!created.isEmpty()) {
                plan.probe(lockPath(created.get(0)), data);
            }
            return plan.commit();
        }
    }
}
