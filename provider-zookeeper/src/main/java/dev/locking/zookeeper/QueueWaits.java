package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.hasIndex;
import static dev.locking.zookeeper.LockPaths.indexPath;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import dev.locking.zookeeper.ExecuteOwnerHolds.Unread;
import dev.locking.zookeeper.KeyQueues.Entry;
import dev.locking.zookeeper.KeyQueues.KeyView;
import dev.locking.zookeeper.TransactionPlan.Failure;
import dev.locking.zookeeper.TransactionPlan.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The waiting side of the hand-off: {@code acquireOrQueue}, {@code awaitGrant} and {@code leaveQueue} for
 * one key and one {@code execute} owner, on the queues of {@link KeyQueues}.
 *
 * <p><b>acquireOrQueue</b> reads the key's lock node and queue (one read-only {@code multi}) and the entries
 * up to the owner's own (another), then commits one transaction:
 * <ul>
 *   <li>the lock node is the owner's: handed to it (then replaced by an ephemeral node of this session, as
 *       a claim does, below), or taken by a call whose answer was lost (renewed); its entry goes;</li>
 *   <li>the key is free (no node, a lapsed lease, or a node of a lost session of this owner) and no live
 *       entry of another owner is ahead: take it as {@code tryAcquire} does (an ephemeral node, a new czxid),
 *       dropping the lapsed entries ahead and the owner's own;</li>
 *   <li>otherwise refresh the owner's entry (it keeps its place), or create it at the tail; a new entry
 *       also marks the join on the queue node (see {@link KeyQueues}), so a release or a take that read the
 *       queue before this entry existed fails and reads again.</li>
 * </ul>
 * Any change by another client in between fails the transaction, and the call reads again.
 *
 * <p><b>awaitGrant</b> watches the owner's entry: a hand-off deletes it. It then claims the grant with one
 * transaction that checks the granted node's marker (named by the entry's nonce), deletes that persistent node
 * and creates the owner's ephemeral node with its full lease, so an {@code execute} lock is tied to its
 * session again, as every other one; the write reports the new node's czxid, the fencing token (higher than
 * the grant's). An entry deleted for another
 * reason (it lapsed, {@code releaseAll()}) finds no marker: a spurious return, and the core's next
 * {@code acquireOrQueue} queues again. An owner that was at the head of the queue also watches the lock
 * node, so a key freed without a hand-off (the holder's session ended) is taken at once. A grant that came
 * before the wait starts is found by the first look at the entry, so none is lost.
 *
 * <p><b>leaveQueue</b> deletes the owner's entry; if that finds it gone, or the owner holds the key, it
 * releases the key through {@link Release}, which hands it on.
 *
 * <p>Concurrency: the map of waiting owners is a {@link ConcurrentHashMap} of immutable records; each call
 * works on its own owner's record, written by that owner's thread.
 */
final class QueueWaits {
    private static final Logger log = LoggerFactory.getLogger(QueueWaits.class);

    /** A queued owner of this provider: its entry and what it needs to claim a grant. */
    private record Waiting(String entryPath, String nonce, long leaseMillis, boolean head) {}

    private record Slot(String key, String ownerId) {}

    private final String id;
    private final LockingClock clock;
    private final ZookeeperSession session;
    private final ExecuteOwnerHolds holds;
    private final ZookeeperFailures failures;
    private final Release release;
    private final LocksEpoch epoch;
    private final Map<Slot, Waiting> waiting = new ConcurrentHashMap<>();

    QueueWaits(String id, LockingClock clock, ZookeeperSession session, ExecuteOwnerHolds holds,
            ZookeeperFailures failures, Release release, LocksEpoch epoch) {
        this.id = id;
        this.clock = clock;
        this.session = session;
        this.holds = holds;
        this.failures = failures;
        this.release = release;
        this.epoch = epoch;
    }

    AcquireResult acquireOrQueue(CuratorFramework ns, String key, String ownerId, Duration lease, Duration stay)
            throws Exception {
        long generation = session.generation();
        long sessionId = session.sessionId();
        for (int attempt = 1; ; attempt++) {
            long now = clock.currentTimeMillis();
            KeyView view = KeyQueues.read(ns, List.of(key)).get(0);
            LockNode lock = view.lock();
            String problem = lock == null ? null : lock.problem();
            if (problem != null) {
                throw failures.foreign(key, problem, "acquire");
            }
            String foreign = view.foreignChild();
            if (foreign != null) {
                throw failures.foreignEntry(key, foreign, "acquire");
            }
            String ownPath = view.entryOf(ownerId);
            Waiting known = waiting.get(new Slot(key, ownerId));
            if (lock != null && !lock.data().lapsedAt(now) && !lock.data().ownedBy(ownerId)
                    && (ownPath == null || (known != null && known.entryPath().equals(ownPath)))) {
                // Held by another: the owner queues whatever the entries ahead say; no need to read them.
                boolean head = KeyQueues.upToOwn(view, ownerId).size() == (ownPath == null ? 0 : 1);
                Failure failure = queue(ns, view, ownerId, lease, stay, ownPath,
                        known == null ? null : known.nonce(), head, now);
                if (failure == null) {
                    return new AcquireResult.Conflict(key);
                }
                failure.rethrowUnlessRetryable();
                failures.checkAttempts(attempt, "queueing for", List.of(key), failure);
                continue;
            }
            Entry own = null;
            boolean liveAhead = false;
            List<Entry> lapsedAhead = new ArrayList<>();
            for (Entry entry : KeyQueues.readEntries(ns, view.queuePath(), KeyQueues.upToOwn(view, ownerId))) {
                QueueEntry data = entry.data();
                if (data == null) {
                    throw failures.foreignEntry(key, entry.path(), "acquire");
                } else if (data.owner().equals(ownerId)) {
                    own = entry;
                } else if (data.lapsedAt(now)) {
                    lapsedAhead.add(entry);
                } else {
                    liveAhead = true;
                }
            }
            boolean ownedByUs = lock != null && lock.data().ownedBy(ownerId);
            long ephemeralOwner = lock == null ? 0 : lock.stat().getEphemeralOwner();
            boolean mine = ownedByUs && (ephemeralOwner == 0 || ephemeralOwner == sessionId);
            boolean free = lock == null || lock.data().lapsedAt(now) || (ownedByUs && !mine);
            TransactionPlan plan = new TransactionPlan(ns);
            Failure failure;
            if (mine && lock != null) {
                long expiry = Leases.expiryMillis(now, lease);
                if (ephemeralOwner == 0) {
                    // Handed to it since its last call: make the node its own, as a claim does.
                    plan.deleteLock(key, view.lockPath(), lock);
                    ownNode(plan, view.lockPath(), ownerId, expiry);
                } else {
                    plan.setData(key, view.lockPath(), lock.data().withExpiry(expiry).toBytes(), lock);
                }
                if (own != null) {
                    plan.deleteEntry(own.path(), -1);
                }
                failure = plan.commit();
                if (failure == null) {
                    long token = ephemeralOwner == 0 ? plan.probedCzxid() : lock.stat().getCzxid();
                    return acquired(key, ownerId, generation, token, expiry);
                }
            } else if (free && !liveAhead) {
                long expiry = Leases.expiryMillis(now, lease);
                if (lock != null) {
                    takeOver(ns, plan, key, view.lockPath(), lock);
                }
                for (Entry entry : lapsedAhead) {
                    plan.deleteEntry(entry.path(), entry.stat().getVersion());
                }
                if (own != null) {
                    plan.deleteEntry(own.path(), -1);
                }
                String instance = ownNode(plan, view.lockPath(), ownerId, expiry);
                view.checkNoJoin(plan);
                int epochBefore = epoch.get();
                failure = plan.commit();
                if (failure == null) {
                    // Taken with nobody in the queue: its release may skip reading, unless someone joins.
                    Unread unread = !view.entries().isEmpty() || epochBefore < 0 ? null
                            : new Unread(sessionId, epochBefore, expiry, Map.of(key, 1), instance,
                                    Map.of(key, view.queueVersion()));
                    return acquired(key, ownerId, generation, plan.probedCzxid(), expiry, unread);
                }
            } else {
                QueueEntry old = own == null ? null : own.data();
                failure = queue(ns, view, ownerId, lease, stay, own == null ? null : own.path(),
                        old == null ? null : old.nonce(), !liveAhead, now);
                if (failure == null) {
                    return new AcquireResult.Conflict(key);
                }
            }
            failures.refuseLostMarker(ns, failure, "acquire");
            failure.rethrowUnlessRetryable();
            failures.checkAttempts(attempt, "queueing for", List.of(key), failure);
        }
    }

    /**
     * Refreshes the owner's entry (it keeps its place) or creates it at the tail, marking the join; remembers
     * what the owner needs to claim a grant.
     *
     * @return null when queued, else why the transaction failed
     */
    private @Nullable Failure queue(CuratorFramework ns, KeyView view, String ownerId, Duration lease,
            Duration stay, @Nullable String ownPath, @Nullable String nonce, boolean head, long now) throws Exception {
        QueueEntry entry = new QueueEntry(ownerId, Leases.expiryMillis(now, stay), Leases.toMillis(lease),
                Leases.toMillis(stay), nonce == null ? UUID.randomUUID().toString() : nonce);
        TransactionPlan plan = new TransactionPlan(ns);
        if (ownPath != null) {
            plan.setEntry(ownPath, entry.toBytes(), -1);
        } else {
            plan.createEntry(KeyQueues.entryPrefix(view.key(), ownerId), entry.toBytes());
            plan.markJoin(view.queuePath());
        }
        Failure failure = plan.commit();
        if (failure == null) {
            String path = ownPath != null ? ownPath : plan.createdPath(Kind.ENTRY_CREATE);
            waiting.put(new Slot(view.key(), ownerId), new Waiting(path, entry.nonce(), entry.leaseMillis(), head));
            log.debug("{}: {} queued for {} ({})", id, ownerId, view.key(), path);
        } else if (failure.is(Kind.ENTRY_CREATE, KeeperException.Code.NONODE)) {
            createQueue(ns, view.queuePath());
        }
        return failure;
    }

    /** A lapsed node (or one of a lost session of this owner): delete it, and an old owner's index entry. */
    private static void takeOver(CuratorFramework ns, TransactionPlan plan, String key, String lockPath,
            LockNode lock) throws Exception {
        String previous = lock.data().owner();
        if (previous != null && hasIndex(previous) && ns.checkExists().forPath(indexPath(previous, key)) != null) {
            plan.deleteIndex(key, indexPath(previous, key));
        }
        plan.deleteLock(key, lockPath, lock);
    }

    private static void createQueue(CuratorFramework ns, String queuePath) throws Exception {
        try {
            ns.create().creatingParentContainersIfNeeded().withMode(CreateMode.CONTAINER).forPath(queuePath);
        } catch (KeeperException.NodeExistsException e) {
            // Created meanwhile.
        }
    }

    AcquireResult.@Nullable Acquired awaitGrant(CuratorFramework ns, String key, String ownerId, long maxNanos)
            throws Exception {
        Waiting w = waiting.get(new Slot(key, ownerId));
        long deadline = System.nanoTime() + maxNanos;
        Semaphore fired = new Semaphore(0);
        CuratorWatcher watcher = event -> fired.release();
        while (true) {
            if (w == null) {
                return null; // not queued through this provider: the core asks again
            }
            Stat entry = ns.checkExists().usingWatcher(watcher).forPath(w.entryPath());
            if (entry == null) {
                return claim(ns, key, ownerId, w);
            }
            if (w.head()) {
                Stat stat = new Stat();
                LockData lock;
                try {
                    lock = LockData.parse(ns.getData().storingStatIn(stat).usingWatcher(watcher)
                            .forPath(LockPaths.lockPath(key)));
                } catch (KeeperException.NoNodeException e) {
                    lock = null;
                }
                if (lock == null || lock.lapsedAt(clock.currentTimeMillis())) {
                    return null; // free without a hand-off: the core's next acquireOrQueue takes it
                }
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0 || !fired.tryAcquire(remaining, TimeUnit.NANOSECONDS)) {
                return null;
            }
            fired.drainPermits();
            w = waiting.get(new Slot(key, ownerId));
        }
    }

    /**
     * The entry is gone: if the key was handed to the owner, replace the granted persistent node (checked by
     * its marker) with an ephemeral node of this session and the owner's full lease, and take it. The new node's
     * czxid, higher than the grant's, is the fencing token.
     */
    private AcquireResult.@Nullable Acquired claim(CuratorFramework ns, String key, String ownerId, Waiting w)
            throws Exception {
        long generation = session.generation();
        long expiry = Leases.expiryMillis(clock.currentTimeMillis(), Duration.ofMillis(w.leaseMillis()));
        String granted = new QueueEntry(ownerId, 0, w.leaseMillis(), 0, w.nonce()).grantInstance();
        TransactionPlan plan = new TransactionPlan(ns);
        plan.deleteInstance(key, LockPaths.lockPath(key), granted);
        ownNode(plan, LockPaths.lockPath(key), ownerId, expiry);
        Failure failure = plan.commit();
        if (failure != null) {
            failure.rethrowUnlessRetryable();
            return null; // not handed to it: the entry lapsed and was dropped, or releaseAll() ran
        }
        return acquired(key, ownerId, generation, plan.probedCzxid(), expiry);
    }

    /** Creates the owner's ephemeral lock node (with its marker) and learns its czxid ({@link TransactionPlan#probe}). */
    private static String ownNode(TransactionPlan plan, String lockPath, String ownerId, long expiry)
            throws Exception {
        String instance = InstanceMarkers.newId(UUID.randomUUID().toString());
        byte[] data = new LockData(ownerId, expiry, instance).toBytes();
        plan.createLock(lockPath, data, CreateMode.EPHEMERAL, instance);
        plan.probe(lockPath, data);
        return instance;
    }

    private AcquireResult.Acquired acquired(String key, String ownerId, long generation, long token, long expiry) {
        return acquired(key, ownerId, generation, token, expiry, null);
    }

    private AcquireResult.Acquired acquired(String key, String ownerId, long generation, long token, long expiry,
            @Nullable Unread unread) {
        waiting.remove(new Slot(key, ownerId));
        holds.acquired(ownerId, generation, List.of(key), unread);
        log.debug("{}: {} holds {} (token {})", id, ownerId, key, token);
        return new AcquireResult.Acquired(Map.of(key, token), Instant.ofEpochMilli(expiry));
    }

    void leaveQueue(CuratorFramework ns, String key, String ownerId) throws Exception {
        waiting.remove(new Slot(key, ownerId));
        for (int attempt = 1; ; attempt++) {
            KeyView view = KeyQueues.read(ns, List.of(key)).get(0);
            LockNode lock = view.lock();
            if (lock != null && lock.problem() == null && lock.data().ownedBy(ownerId)) {
                release.release(ns, List.of(key), ownerId); // drops its entry too, and hands the key on
                return;
            }
            String own = view.entryOf(ownerId);
            if (own == null) {
                return;
            }
            try {
                ns.delete().forPath(own);
                log.debug("{}: {} left the queue of {}", id, ownerId, key);
                return;
            } catch (KeeperException.NoNodeException e) {
                // Gone meanwhile, perhaps handed the key: read again.
                if (attempt >= ZookeeperFailures.MAX_ATTEMPTS) {
                    return;
                }
            }
        }
    }
}
