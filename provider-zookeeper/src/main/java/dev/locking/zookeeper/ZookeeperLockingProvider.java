package dev.locking.zookeeper;

import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.CuratorZookeeperClient;
import org.apache.curator.RetryLoop;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lp_zookeeper}: locks as znodes, written with ZooKeeper multi-operation transactions.
 *
 * <h2>Layout (under the namespace, {@code /locking} by default)</h2>
 * <pre>
 * /locks/&lt;key&gt;                   one node per held key; data = {@link LockData} (owner, expiry, instance id);
 *                                  its creation zxid (czxid) is the fencing token
 * /instances/&lt;key&gt;~&lt;id&gt;         the node's {@linkplain InstanceMarkers instance marker}
 * /owners/&lt;owner&gt;                 a container node per owner (ZooKeeper removes it once empty)
 * /owners/&lt;owner&gt;/&lt;key&gt;           the owner index: one empty node per key the owner holds
 * </pre>
 * Keys and owners are single segments made by {@link Segments#encode}. Anonymous locks and the locks of
 * {@code execute} owners have no index entry (see below). The index entry is always created and deleted in
 * the same transaction as its lock node.
 *
 * <h2>Ephemeral and persistent locks</h2>
 * An owner id that starts with {@value #EXECUTE_OWNER_PREFIX} (the core's owners for {@code execute})
 * gets EPHEMERAL lock nodes, tied to this client's session: when the session ends (the process crashed, or
 * was cut off for longer than the session timeout) ZooKeeper deletes them. Every other lock (from
 * {@code acquire}) is PERSISTENT, outlives the process and is free once its lease lapses.
 *
 * <p>An {@code execute} owner needs no index in ZooKeeper: its id is made by this JVM's core for one call
 * (applications cannot pass such ids, so only the core could ask for {@code releaseAll} of it), and its
 * locks belong to this provider's session, so no other client can hold locks under it. This provider keeps
 * its index in memory instead ({@link #execHolds}), which saves the owner container and one index node per
 * key in every {@code execute}'s two transactions.
 *
 * <h2>Leases and clocks</h2>
 * A lease's expiry is written as epoch milliseconds of the writing client's wall clock (now + lease) and
 * is judged by the reading client's wall clock: a lapsed node is free and is taken over by deleting it
 * (with its version and its instance marker, so that only the very node judged lapsed goes) and creating a
 * new one in the same transaction. The clocks of all clients must
 * therefore agree (NTP); a client whose clock runs ahead by S sees leases lapse S early. ZooKeeper never
 * deletes a lapsed persistent node by itself: it stays until the key is acquired, released or
 * {@code releaseAll()} runs.
 *
 * <h2>Sessions</h2>
 * Curator reports SUSPENDED when the connection drops ("not sure": calls wait up to the connection
 * timeout for it to come back, then fail with {@link ProviderUnavailableException}) and LOST when the
 * session has expired ("gone": every ephemeral node of the session is deleted, or will be). On LOST the
 * provider bumps {@link #sessionGeneration}; {@link #extend} of an {@code execute} owner whose locks were
 * taken in an earlier generation returns false at once, and any {@code extend} of an {@code execute}
 * owner checks that the node's ephemeral owner is the current session, so the core turns the job's
 * handle lost.
 *
 * <h2>Concurrency</h2>
 * An operation reads the nodes it needs (all keys with one read-only multi), decides, and commits one
 * transaction whose deletes and updates carry the versions it read and delete or check the instance markers
 * of the nodes it read; if any node changed or was replaced in between, the transaction fails as a whole and the operation reads and decides again (a bounded number of times). Two
 * shortcuts skip the read when its answer is known: {@link #tryAcquire} creates keys it has no reason to
 * think held straight away (a held key fails the create, and the transaction, as a whole; then it reads),
 * and an {@code execute}'s release deletes the nodes its acquire created with the versions they were
 * created with ({@link #releasedUnread}). Each attempt's writes carry a random nonce so that an attempt
 * whose reply was lost (and was retried by Curator) is recognised as having succeeded. A read may come from a
 * server that lags behind; answers given from a read alone are made fresh first (see {@link #readAll}). Shared mutable
 * state: {@link #started} (set once under {@link #lifecycle}), the owner-container cache, the contested
 * keys, {@link #execHolds}, {@link #locksEpoch} and the watches, all thread-safe.
 */
final class ZookeeperLockingProvider implements LockingProvider {
    private static final Logger log = LoggerFactory.getLogger(ZookeeperLockingProvider.class);

    // Owners starting with EXECUTE_OWNER_PREFIX (from LockingProvider) are the core's execute owners;
    // their locks are ephemeral.

    static final String LOCKS = "/locks";
    static final String OWNERS = "/owners";
    /** Why a lock node with children is not one of ours (words that follow "the node"). */
    private static final String HAS_CHILDREN = "has child nodes, which lp_zookeeper never creates";

    /** How often one operation re-reads and retries after a concurrent change made its transaction fail. */
    private static final int MAX_ATTEMPTS = 25;
    private static final int MAX_CACHED_CONTAINERS = 10_000;
    private static final int MAX_CONTESTED = 10_000;
    /**
     * The most keys {@code releaseAll(owner)} releases per transaction (one read and one write per batch
     * instead of per key) ...
     */
    private static final int RELEASE_ALL_BATCH = 100;
    /**
     * ... and the most characters of key segments per batch (each key's path is in the read and twice in
     * the transaction), so a request stays far below ZooKeeper's 1 MB packet limit even with the longest
     * keys (9216 characters encoded): about 200 KB.
     */
    private static final int RELEASE_ALL_BATCH_CHARS = 64 * 1024;
    /** A release skips reading only when the lease has at least this long left by this client's clock. */
    private static final long UNREAD_RELEASE_MARGIN_MILLIS = 1_000;

    private final String id;
    private final String namespace;
    private final LockingClock clock;
    private final @Nullable ZookeeperOptions options;
    private final @Nullable CuratorFramework givenClient;
    private final Object lifecycle = new Object();
    private volatile @Nullable Started started;
    private volatile boolean closed;
    private volatile boolean layoutReady;
    private final Object layoutLock = new Object();
    /** Guarded by {@link #layoutLock}: whether the namespace's ACL was checked (once). */
    private boolean aclChecked;
    private final AtomicLong sessionGeneration = new AtomicLong();
    /**
     * The data version of {@code /locks} as last read, or -1 before it was read. {@code releaseAll()} bumps
     * it before and after deleting nodes, so a transaction that checks the value read before its nodes
     * were created fails if a {@code releaseAll()} may have deleted them since (see {@link #releasedUnread}).
     */
    private volatile int locksEpoch = -1;
    /** Runs again the acquires that an interrupt cut short (see acquireAfterInterrupt); made on first need. */
    private volatile @Nullable ExecutorService recovery;
    /** The keys each {@code execute} owner holds through this provider, and the session generation it took them in. */
    private final ConcurrentHashMap<String, ExecHold> execHolds = new ConcurrentHashMap<>();
    private final Set<String> knownContainers = ConcurrentHashMap.newKeySet();
    /** Lock paths this provider recently found held: tryAcquire reads these before it writes. */
    private final Set<String> contested = ConcurrentHashMap.newKeySet();
    private final KeyWatches watches = new KeyWatches();
    private final ConnectionStateListener stateListener = this::stateChanged;

    /** The running client: the root client and its namespaced view. */
    private record Started(CuratorFramework root, CuratorFramework ns, Duration connectionTimeout) {}

    /**
     * What an {@code execute} owner holds: its keys (the in-memory owner index) and the
     * {@link #sessionGeneration} in which it first took keys. Immutable; replaced as a whole.
     */
    private record ExecHold(long generation, Set<String> keys, @Nullable Unread unread) {
        ExecHold withoutUnread() {
            return unread == null ? this : new ExecHold(generation, keys, null);
        }
    }

    /**
     * What a release of an {@code execute} owner's keys needs to know to skip reading them: the session
     * that created the nodes, the {@link #locksEpoch} read before they were created, the lease expiry
     * written, each node's version (0, or 1 for the node the czxid probe set) and the nodes' instance id.
     */
    private record Unread(long sessionId, int epoch, long expiresAtMillis, Map<String, Integer> versions,
            String instance) {}

    private ZookeeperLockingProvider(String id, String namespace, LockingClock clock,
            @Nullable ZookeeperOptions options, @Nullable CuratorFramework givenClient) {
        this.id = id;
        this.namespace = namespace;
        this.clock = clock;
        this.options = options;
        this.givenClient = givenClient;
    }

    /** A provider that builds, starts (on first use) and closes its own Curator client. */
    static ZookeeperLockingProvider withOwnClient(String id, ZookeeperOptions options, LockingClock clock) {
        return new ZookeeperLockingProvider(id, options.namespace(), clock, options, null);
    }

    /** A provider on the application's client, which the application starts and closes. */
    static ZookeeperLockingProvider withGivenClient(String id, CuratorFramework client, String namespace,
            LockingClock clock) {
        String base = client.getNamespace();
        String full = base == null || base.isEmpty() ? namespace : base + "/" + namespace;
        return new ZookeeperLockingProvider(id, full, clock, null, client);
    }

    @Override
    public String id() {
        return id;
    }

    // ------------------------------------------------------------------------------------------ acquire

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        CuratorFramework ns = ready();
        String nonce = UUID.randomUUID().toString();
        try {
            return acquire(ns, keys, ownerId, lease, nonce);
        } catch (InterruptedException e) {
            return acquireAfterInterrupt(ns, keys, ownerId, lease, nonce);
        }
    }

    /**
     * An interrupt ended an acquire whose request may already have reached the server: the nodes may exist,
     * and a caller told "failed" would never release them. So the acquire runs again, with the same nonce
     * (which makes nodes that the first request created this call's own), on a thread of this provider
     * that nothing interrupts; this thread waits for it without answering interrupts (the call is bounded
     * by the client's timeouts) and sets its interrupt flag again before returning.
     */
    private AcquireResult acquireAfterInterrupt(CuratorFramework ns, List<String> keys, @Nullable String ownerId,
            @Nullable Duration lease, String nonce) {
        log.debug("{}: interrupted while acquiring {}; finishing the call uninterrupted", id, keys);
        Future<AcquireResult> again;
        try {
            again = recovery().submit(() -> acquire(ns, keys, ownerId, lease, nonce));
        } catch (RejectedExecutionException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(id + " is closed", e);
        }
        try {
            while (true) {
                try {
                    return again.get();
                } catch (InterruptedException e) {
                    // Still waiting for the answer; the flag is set again below.
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    throw failure("acquiring", keys, cause instanceof Exception ex ? ex : new ExecutionException(cause));
                }
            }
        } finally {
            Thread.currentThread().interrupt();
        }
    }

    /** The acquire itself; an interrupt is left to {@link #tryAcquire}, every other failure is mapped. */
    private AcquireResult acquire(CuratorFramework ns, List<String> keys, @Nullable String ownerId,
            @Nullable Duration lease, String nonce) throws InterruptedException {
        boolean ephemeral = isExecuteOwner(ownerId);
        long generation = sessionGeneration.get();
        Set<String> deleteFirst = new HashSet<>();
        boolean containerExists = false;
        List<String> paths = lockPaths(keys);
        // Keys believed free are created without reading them first: one round trip instead of two. A key
        // found held makes the transaction fail as a whole (nothing is created); then we read and decide.
        boolean readFirst = anyContested(paths);
        // Answers given from a read alone must not be older than the call (see readAll): "held by another"
        // is read again after a sync unless this call has written or synced already (fresh); "all ours
        // already" is confirmed by a transaction unless this call has written already.
        boolean fresh = false;
        boolean written = false;
        boolean needSync = false;
        try {
            attempts:
            for (int attempt = 1; ; attempt++) {
                long now = clock.currentTimeMillis();
                long session = ephemeral ? sessionId() : 0L;
                int epoch = locksEpoch; // read before this attempt's transaction: see Unread
                long newExpiry = lease == null ? LockData.NEVER : Leases.expiryMillis(now, lease);
                String instance = InstanceMarkers.newId(nonce); // one per attempt: never two nodes with one id
                LockData ours = new LockData(ownerId, newExpiry, instance);
                byte[] data = ours.toBytes();
                Plan plan = new Plan(ns);
                Map<String, Long> tokens = new LinkedHashMap<>();
                long expiresAt = LockData.NEVER;
                boolean writes = false;
                List<String> created = new ArrayList<>();
                String ownerContainer = ownerId != null && hasIndex(ownerId) ? ownerPath(ownerId) : null;
                boolean containerPlanned = containerExists
                        || (ownerContainer != null && knownContainers.contains(ownerContainer));
                boolean syncing = readFirst && needSync;
                List<@Nullable Node> nodes = readFirst ? readAll(ns, paths, syncing) : noNodes(keys.size());
                fresh |= syncing;
                refuseForeign(keys, nodes, "acquire");
                for (int i = 0; i < keys.size(); i++) {
                    String key = keys.get(i);
                    String lockPath = paths.get(i);
                    Node node = nodes.get(i);
                    boolean mine = node != null
                            && (node.data.createdBy(nonce) || node.data.ownedBy(ownerId))
                            && !node.data.lapsedAt(now)
                            && !(ephemeral && node.stat.getEphemeralOwner() != session);
                    if (node != null && mine) {
                        tokens.put(key, node.stat.getCzxid());
                        if (lease != null && !node.data.createdBy(nonce)) {
                            plan.setData(key, lockPath, node.data.withExpiry(newExpiry).toBytes(), node);
                            expiresAt = Math.min(expiresAt, newExpiry);
                            writes = true;
                        } else {
                            plan.check(key, lockPath, node);
                            expiresAt = Math.min(expiresAt, node.data.expiresAtMillis());
                        }
                        continue;
                    }
                    if (node != null) {
                        boolean deadSessionOfOurs = ephemeral && node.data.ownedBy(ownerId);
                        if (!node.data.lapsedAt(now) && !deadSessionOfOurs) {
                            if (!fresh) {
                                needSync = true;
                                continue attempts;
                            }
                            markContested(lockPath);
                            log.debug("{}: {} not acquired for {}: held by another owner", id, keys, ownerId);
                            return new AcquireResult.Conflict(key);
                        }
                        // Lapsed (or left by a lost session of this very owner): take it over.
                        String previousOwner = node.data.owner();
                        if (previousOwner != null && hasIndex(previousOwner)) {
                            String oldIndex = indexPath(previousOwner, key);
                            if (ns.checkExists().forPath(oldIndex) != null) {
                                plan.deleteIndex(key, oldIndex);
                                deleteFirst.remove(oldIndex);
                            }
                        }
                        // The delete hits only the instance judged lapsed: see InstanceMarkers.
                        plan.deleteLock(key, lockPath, node);
                    }
                    CreateMode mode = ephemeral ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT;
                    plan.createLock(lockPath, data, mode, instance);
                    created.add(key);
                    writes = true;
                    expiresAt = Math.min(expiresAt, newExpiry);
                    if (ownerId != null && ownerContainer != null) { // an owner with an index in ZooKeeper
                        if (!containerPlanned) {
                            plan.createContainer(ownerContainer);
                            containerPlanned = true; // one create per transaction
                        }
                        String index = indexPath(ownerId, key);
                        if (deleteFirst.contains(index)) {
                            plan.deleteIndex(key, index);
                        }
                        plan.createIndex(index, mode);
                    }
                }
                if (!writes && written) {
                    // Every key is ours already and nothing changes: no transaction needed, since this read
                    // followed this call's own transaction. Before that, the plan's version checks are sent
                    // as one: the read may come from a server that has not applied a delete made elsewhere.
                    return acquired(keys, ownerId, tokens, expiresAt, ephemeral, generation, null);
                }
                if (!created.isEmpty()) {
                    // A setData in the same transaction reports the transaction's zxid: the new czxid.
                    plan.probe(lockPath(created.get(0)), data);
                }
                Failure failure = plan.commit();
                // Even a failed transaction: this session's next read sees the ensemble as of it.
                written = true;
                fresh = true;
                if (failure == null) {
                    if (readFirst) {
                        // Keys re-entered stay marked: the next re-entry would fail a create again.
                        forgetContested(created);
                    }
                    if (!created.isEmpty()) {
                        long czxid = plan.probedCzxid();
                        for (String key : created) {
                            tokens.put(key, czxid);
                        }
                    }
                    if (ownerContainer != null) {
                        rememberContainer(ownerContainer);
                    }
                    Unread unread = null;
                    if (ephemeral && epoch >= 0 && created.size() == keys.size()) {
                        Map<String, Integer> versions = new HashMap<>();
                        for (String key : created) {
                            versions.put(key, 0);
                        }
                        versions.put(created.get(0), 1); // the probe's setData
                        unread = new Unread(session, epoch, newExpiry, Map.copyOf(versions), instance);
                    }
                    return acquired(keys, ownerId, tokens, expiresAt, ephemeral, generation, unread);
                }
                switch (failure.step.kind) {
                    case CONTAINER_CREATE -> {
                        if (failure.code == KeeperException.Code.NODEEXISTS) {
                            containerExists = true;
                            rememberContainer(failure.step.path);
                        }
                    }
                    case INDEX_CREATE -> {
                        if (failure.code == KeeperException.Code.NODEEXISTS) {
                            deleteFirst.add(failure.step.path); // left over by a non-atomic releaseAll()
                        } else if (failure.code == KeeperException.Code.NONODE) {
                            // The owner's container was reaped by the server after we saw it: create it again.
                            containerExists = false;
                            forgetContainer(ZKPaths.getPathAndNode(failure.step.path).getPath());
                        }
                    }
                    case INDEX_DELETE -> {
                        refuseForeignIndex(failure, "acquire");
                        deleteFirst.remove(failure.step.path);
                    }
                    case LOCK_CREATE -> {
                        if (failure.code == KeeperException.Code.NODEEXISTS) {
                            // Held (or ours, or lapsed): read the keys and decide, from now on.
                            readFirst = true;
                            markContested(failure.step.path);
                        } else if (failure.code == KeeperException.Code.NONODE) {
                            layoutReady = false;
                            ensureLayout(ns);
                        }
                    }
                    case MARKER_CREATE -> {
                        if (failure.code == KeeperException.Code.NONODE) { // /instances deleted behind our back
                            layoutReady = false;
                            ensureLayout(ns);
                        }
                    }
                    default -> {
                        // A lock node changed since we read it: read again.
                        refuseLostMarker(ns, failure, "acquire");
                    }
                }
                failure.rethrowUnlessRetryable();
                checkAttempts(attempt, "acquiring", keys, failure);
            }
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw failure("acquiring", keys, e);
        }
    }

    private AcquireResult acquired(List<String> keys, @Nullable String ownerId, Map<String, Long> tokens,
            long expiresAt, boolean ephemeral, long generation, @Nullable Unread unread) {
        if (ephemeral && ownerId != null) {
            // The first generation stays: keys re-entered in a later session do not make the lost ones valid.
            // A second acquire by the same owner (the core never does one) makes its release read.
            execHolds.merge(ownerId, new ExecHold(generation, Set.copyOf(keys), unread),
                    (held, added) -> new ExecHold(held.generation, union(held.keys, added.keys), null));
        }
        Instant expiry = expiresAt == LockData.NEVER ? null : Instant.ofEpochMilli(expiresAt);
        if (log.isDebugEnabled()) {
            log.debug("{}: acquired {} for {} ({}), expires {}, tokens {}", id, keys,
                    ownerId == null ? "anonymous" : ownerId, ephemeral ? "ephemeral" : "persistent",
                    expiry == null ? "never" : expiry, tokens);
        }
        return new AcquireResult.Acquired(tokens, expiry);
    }

    // ------------------------------------------------------------------------------------------- extend

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        boolean ephemeral = isExecuteOwner(ownerId);
        if (ephemeral) {
            // The versions and the expiry change: the release reads again.
            ExecHold taken = execHolds.computeIfPresent(ownerId, (owner, hold) -> hold.withoutUnread());
            if (taken != null && taken.generation != sessionGeneration.get()) {
                log.debug("{}: not extending {} for {}: the session that held them was lost", id, keys, ownerId);
                return false;
            }
        }
        CuratorFramework ns = ready();
        try {
            boolean written = false;
            attempts:
            for (int attempt = 1; ; attempt++) {
                long now = clock.currentTimeMillis();
                long session = ephemeral ? sessionId() : 0L;
                long newExpiry = Leases.expiryMillis(now, lease);
                Plan plan = new Plan(ns);
                List<String> paths = lockPaths(keys);
                // A change the read missed fails the transaction (versions), which reads again; a "no" is
                // only given by a read that follows a transaction of this call (see readAll).
                List<@Nullable Node> nodes = readAll(ns, paths, false);
                refuseForeign(keys, nodes, "extend");
                for (int i = 0; i < keys.size(); i++) {
                    String key = keys.get(i);
                    String lockPath = paths.get(i);
                    Node node = nodes.get(i);
                    if (node == null || !node.data.ownedBy(ownerId) || node.data.lapsedAt(now)
                            || (ephemeral && node.stat.getEphemeralOwner() != session)) {
                        if (!written) {
                            barrier(ns);
                            written = true;
                            continue attempts;
                        }
                        log.debug("{}: not extending {} for {}: {} is no longer held by it", id, keys, ownerId, key);
                        return false;
                    }
                    plan.setData(key, lockPath, node.data.withExpiry(newExpiry).toBytes(), node);
                }
                Failure failure = plan.commit();
                written = true;
                if (failure == null) {
                    log.debug("{}: extended {} for {} to {}", id, keys, ownerId, Instant.ofEpochMilli(newExpiry));
                    return true;
                }
                refuseLostMarker(ns, failure, "extend");
                failure.rethrowUnlessRetryable();
                checkAttempts(attempt, "extending", keys, failure);
            }
        } catch (Exception e) {
            throw failure("extending", keys, e);
        }
    }

    // ------------------------------------------------------------------------------------------ release

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        CuratorFramework ns = ready();
        Set<String> missingIndex = new HashSet<>();
        try {
            if (releasedUnread(ns, keys, ownerId)) {
                return true;
            }
            // A key found missing, or not this owner's, is read again after a transaction of this call before
            // the answer says so: the read may come from a server that lags behind (see readAll).
            boolean written = false;
            for (int attempt = 1; ; attempt++) {
                long now = clock.currentTimeMillis();
                Plan plan = new Plan(ns);
                boolean all = true;
                List<String> releasing = new ArrayList<>();
                List<String> paths = lockPaths(keys);
                List<@Nullable Node> nodes = readAll(ns, paths, false);
                refuseForeign(keys, nodes, "release");
                for (int i = 0; i < keys.size(); i++) {
                    String key = keys.get(i);
                    String lockPath = paths.get(i);
                    Node node = nodes.get(i);
                    if (node == null) {
                        all = false;
                        continue;
                    }
                    String holder = node.data.owner();
                    boolean lapsed = node.data.lapsedAt(now);
                    boolean releasable = holder == null || holder.equals(ownerId);
                    if (!releasable) {
                        all = false;
                        continue;
                    }
                    if (lapsed) {
                        all = false; // not held any more; delete the leftover node all the same
                    } else {
                        releasing.add(key);
                    }
                    plan.deleteLock(key, lockPath, node);
                    if (holder != null && hasIndex(holder)) {
                        String index = indexPath(holder, key);
                        if (!missingIndex.contains(index)) {
                            plan.deleteIndex(key, index);
                        }
                    }
                }
                if (!all && !written) {
                    barrier(ns);
                    written = true;
                    continue;
                }
                if (plan.isEmpty()) {
                    forgetExecKeys(ownerId, keys);
                    log.debug("{}: released nothing of {} for {}", id, keys, ownerId);
                    return false;
                }
                Failure failure = plan.commit();
                written = true;
                if (failure == null) {
                    forgetExecKeys(ownerId, keys);
                    log.debug("{}: released {} of {} for {}", id, releasing, keys, ownerId);
                    return all;
                }
                if (failure.step.kind == Kind.INDEX_DELETE && failure.code == KeeperException.Code.NONODE) {
                    missingIndex.add(failure.step.path);
                }
                refuseLostMarker(ns, failure, "release");
                refuseForeignIndex(failure, "release");
                failure.rethrowUnlessRetryable();
                checkAttempts(attempt, "releasing", keys, failure);
            }
        } catch (Exception e) {
            throw failure("releasing", keys, e);
        }
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        CuratorFramework ns = ready();
        try {
            if (ownerId == null) {
                releaseEverything(ns);
            } else {
                releaseOwner(ns, ownerId);
            }
        } catch (Exception e) {
            throw failure(ownerId == null ? "releasing every lock" : "releasing the locks of " + ownerId,
                    List.of(), e);
        }
    }

    /**
     * Releases the keys an {@code execute} owner took with one acquire, without reading them first: one
     * transaction that deletes each node with the version it was created with, and checks that
     * {@code /locks} still has the {@linkplain #locksEpoch epoch} read before the nodes were created.
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
     * @return true if every key was released; false if the caller must read and decide
     */
    private boolean releasedUnread(CuratorFramework ns, List<String> keys, @Nullable String ownerId)
            throws InterruptedException {
        if (ownerId == null || !isExecuteOwner(ownerId)) {
            return false;
        }
        ExecHold hold = execHolds.get(ownerId);
        Unread unread = hold == null ? null : hold.unread;
        if (hold == null || unread == null || hold.generation != sessionGeneration.get()
                || !unread.versions.keySet().equals(Set.copyOf(keys))
                || clock.currentTimeMillis() >= unread.expiresAtMillis - UNREAD_RELEASE_MARGIN_MILLIS) {
            return false;
        }
        CuratorZookeeperClient client = ns.getZookeeperClient();
        String base = ns.getNamespace();
        List<Op> ops = new ArrayList<>(2 * keys.size() + 1);
        ops.add(Op.check(ZKPaths.fixForNamespace(base, LOCKS), unread.epoch));
        for (String key : keys) {
            int version = Objects.requireNonNull(unread.versions.get(key));
            String lockPath = lockPath(key);
            ops.add(Op.delete(ZKPaths.fixForNamespace(base, lockPath), version));
            ops.add(Op.delete(ZKPaths.fixForNamespace(base, InstanceMarkers.path(lockPath, unread.instance)), -1));
        }
        try {
            ZooKeeper zk = client.getZooKeeper();
            if (!client.isConnected() || zk.getSessionId() != unread.sessionId) {
                return false;
            }
            zk.multi(ops);
        } catch (KeeperException e) {
            List<OpResult> results = e.getResults();
            if (results != null && !results.isEmpty() && results.get(0) instanceof OpResult.ErrorResult first
                    && first.getErr() != KeeperException.Code.OK.intValue()) {
                refreshEpoch(ns); // a releaseAll() ran since we last looked
            }
            log.debug("{}: releasing {} for {} without reading failed ({}); reading", id, keys, ownerId, e.code());
            return false;
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            // No handle (closing, reconnecting): the reading path waits for a connection or reports it.
            return false;
        }
        forgetExecKeys(ownerId, keys);
        log.debug("{}: released {} for {} (without reading)", id, keys, ownerId);
        return true;
    }

    private void refreshEpoch(CuratorFramework ns) {
        try {
            Stat stat = ns.checkExists().forPath(LOCKS);
            if (stat != null) {
                locksEpoch = stat.getVersion();
            }
        } catch (Exception e) {
            log.debug("{}: could not read the version of /{}{}: {}", id, namespace, LOCKS, e.toString());
        }
    }

    /** Walks the owner's index only: the cost grows with this owner's locks, not with all locks. */
    private void releaseOwner(CuratorFramework ns, String ownerId) throws Exception {
        if (isExecuteOwner(ownerId)) {
            // Its index is in memory: only this provider's session can hold its locks.
            ExecHold hold = execHolds.get(ownerId);
            if (hold != null) {
                release(hold.keys.stream().sorted().toList(), ownerId);
            }
            execHolds.remove(ownerId);
            return;
        }
        String container = ownerPath(ownerId);
        // The owner's locks may have been taken through other clients, on other servers.
        barrier(ns);
        List<String> segments = children(ns, container);
        int released = 0;
        List<String> batch = new ArrayList<>();
        int chars = 0;
        for (String segment : segments) {
            if (!batch.isEmpty() && (batch.size() == RELEASE_ALL_BATCH
                    || chars + segment.length() > RELEASE_ALL_BATCH_CHARS)) {
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
            List<@Nullable Node> nodes = readAll(ns, paths, false); // after the barrier: fresh
            Plan plan = new Plan(ns);
            int owned = 0;
            List<String> foreign = new ArrayList<>(badIndex);
            for (int i = 0; i < segments.size(); i++) {
                Node node = nodes.get(i);
                if (node != null && node.problem != null) {
                    // Not ours to delete: left as it is, with its index entry; the rest is released.
                    foreign.add(paths.get(i) + " " + node.problem);
                    continue;
                }
                if (node != null && node.data.ownedBy(ownerId)) {
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
            if (failure.step.kind == Kind.INDEX_DELETE && failure.code == KeeperException.Code.NONODE) {
                segments.remove(ZKPaths.getNodeFromPath(failure.step.path)); // released concurrently
                continue;
            }
            if (failure.step.kind == Kind.INDEX_DELETE && failure.code == KeeperException.Code.NOTEMPTY) {
                // Someone put nodes under an index entry: leave that key (lock and entry) alone, release the rest.
                segments.remove(ZKPaths.getNodeFromPath(failure.step.path));
                badIndex.add(failure.step.path + " " + HAS_CHILDREN);
                if (segments.isEmpty()) {
                    warnLeftBehind("releasing the locks of " + ownerId, badIndex);
                }
                continue;
            }
            refuseLostMarker(ns, failure, "release every lock of " + ownerId + " at");
            failure.rethrowUnlessRetryable();
            checkAttempts(attempt, "releasing", segments, failure);
        }
        return 0;

    }

    /**
     * Deletes every lock and index node under the namespace; not one atomic step. It bumps the epoch of
     * {@code /locks} before and after: an {@code execute}'s release that does not read checks it.
     */
    private void releaseEverything(CuratorFramework ns) throws Exception {
        bumpEpoch(ns);
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
        bumpEpoch(ns);
        deleteOrphanMarkers(ns, foreign);
        for (String owner : children(ns, OWNERS)) {
            String container = ZKPaths.makePath(OWNERS, owner);
            for (String segment : children(ns, container)) {
                deleteQuietly(ns, ZKPaths.makePath(container, segment), foreign);
            }
        }
        execHolds.clear();
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
            Plan plan = new Plan(ns);
            Node node = new Node(LockData.parse(bytes), stat, null);
            plan.deleteLock(null, path, node); // a first-version node has no marker: its instance is empty
            Failure failure = plan.commit();
            if (failure == null) {
                return null;
            }
            if (failure.step.kind == Kind.MARKER_DELETE) {
                // The marker went missing (deleted by hand): delete the lock node alone.
                try {
                    ns.delete().withVersion(stat.getVersion()).forPath(path);
                    return null;
                } catch (KeeperException.NoNodeException | KeeperException.BadVersionException e) {
                    // Changed meanwhile: read again.
                }
            } else if (failure.code == KeeperException.Code.NONODE) {
                return "";
            } else {
                failure.rethrowUnlessRetryable();
            }
            checkAttempts(attempt, "releasing every lock at", List.of(path), failure);
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
                Node node = read(ns, ZKPaths.makePath(LOCKS, segment), false);
                live = node == null ? "" : node.data.instance();
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

    private void bumpEpoch(CuratorFramework ns) throws Exception {
        try {
            locksEpoch = ns.setData().forPath(LOCKS, new byte[0]).getVersion();
        } catch (KeeperException.NoNodeException e) {
            // No locks at all.
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

    // ------------------------------------------------------------------------------------------ inspect

    @Override
    public Optional<LockInfo> inspect(String key) {
        CuratorFramework ns = ready();
        try {
            barrier(ns); // so that the read reflects every lock taken or released before this call, anywhere
            Node node = read(ns, lockPath(key), false);
            if (node != null && node.problem != null) {
                throw foreign(key, node.problem, "inspect");
            }
            if (node == null || node.data.lapsedAt(clock.currentTimeMillis())) {
                return Optional.empty();
            }
            return Optional.of(new LockInfo(key, node.data.owner(), node.data.expiresAt(), node.stat.getCzxid()));
        } catch (Exception e) {
            throw failure("inspecting", List.of(key), e);
        }
    }

    // -------------------------------------------------------------------------------------------- await

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        CuratorFramework ns = ready();
        List<String> paths = new ArrayList<>(keys.size());
        for (String key : keys) {
            paths.add(lockPath(key));
        }
        long maxMillis = Math.max(1, saturatedMillis(maxWait));
        try {
            watches.await(paths, maxMillis, clock.currentTimeMillis(), (path, watcher) -> {
                Stat stat = new Stat();
                try {
                    return LockData.parse(ns.getData().storingStatIn(stat).usingWatcher(watcher).forPath(path));
                } catch (KeeperException.NoNodeException e) {
                    return null;
                }
            });
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw failure("waiting for", keys, e);
        }
    }

    // -------------------------------------------------------------------------------------------- close

    @Override
    public void close() {
        Started s;
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
            s = started;
        }
        watches.wakeAll();
        ExecutorService r = recovery;
        if (r != null) {
            r.shutdown();
        }
        if (s != null) {
            s.root.getConnectionStateListenable().removeListener(stateListener);
            if (givenClient == null) {
                // Ends the session: ZooKeeper deletes this provider's ephemeral (execute) locks at once.
                s.root.close();
            }
        }
        log.debug("{}: closed", id);
    }

    // ------------------------------------------------------------------------------- connection handling

    private ExecutorService recovery() {
        ExecutorService r = recovery;
        if (r == null) {
            synchronized (lifecycle) {
                r = recovery;
                if (r == null) {
                    if (closed) {
                        throw new RejectedExecutionException(id + " is closed");
                    }
                    r = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                            task -> {
                                Thread t = new Thread(task, "locking-zookeeper-recovery-" + id);
                                t.setDaemon(true);
                                return t;
                            });
                    recovery = r;
                }
            }
        }
        return r;
    }

    /** The namespaced client, started and connected, with the layout nodes in place. */
    private CuratorFramework ready() {
        Started s = started;
        if (s == null) {
            s = start();
        }
        if (closed) {
            throw new IllegalStateException(id + " is closed");
        }
        if (!s.root.getZookeeperClient().isConnected()) {
            boolean connected;
            try {
                connected = s.root.blockUntilConnected(
                        (int) s.connectionTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LockingException(id + ": interrupted while connecting to ZooKeeper", e);
            }
            if (!connected) {
                throw new ProviderUnavailableException(id + ": no ZooKeeper server answered within "
                        + s.connectionTimeout + " (" + describe() + ")");
            }
        }
        if (!layoutReady) {
            try {
                ensureLayout(s.ns);
            } catch (Exception e) {
                throw failure("preparing /" + namespace + " on", List.of(), e);
            }
        }
        return s.ns;
    }

    private Started start() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException(id + " is closed");
            }
            Started s = started;
            if (s != null) {
                return s;
            }
            CuratorFramework root;
            Duration connectionTimeout;
            if (givenClient != null) {
                root = givenClient;
                if (root.getState() != CuratorFrameworkState.STARTED) {
                    throw new IllegalStateException(id + ": the CuratorFramework given to the provider is "
                            + root.getState() + "; start it before the first lock call");
                }
                connectionTimeout = Duration.ofMillis(root.getZookeeperClient().getConnectionTimeoutMs());
            } else {
                ZookeeperOptions o = Objects.requireNonNull(options);
                root = newClient(o);
                connectionTimeout = o.connectionTimeout();
            }
            root.getConnectionStateListenable().addListener(stateListener);
            if (givenClient == null) {
                log.info("{}: connecting to ZooKeeper ({})", id, describe());
                root.start();
            }
            CuratorFramework ns = root.usingNamespace(namespace);
            s = new Started(root, ns, connectionTimeout);
            started = s;
            return s;
        }
    }

    private static CuratorFramework newClient(ZookeeperOptions o) {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(o.connectString())
                .sessionTimeoutMs((int) o.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) o.connectionTimeout().toMillis())
                // One retry: a call fails within about twice the connection timeout when no server answers.
                .retryPolicy(new RetryNTimes(1, 250));
        String auth = o.auth();
        if (auth != null) {
            builder.authorization("digest", auth.getBytes(StandardCharsets.UTF_8)).aclProvider(new DigestAcl());
        }
        return builder.build();
    }

    /**
     * With {@code auth}: every node this provider creates may be read by anyone but changed, created under
     * and deleted only by clients with the same digest credentials.
     */
    private static final class DigestAcl implements ACLProvider {
        // Not List.of: ZooKeeper asks the list whether it contains null, which List.of answers with an NPE.
        private static final List<ACL> ACLS = java.util.Collections.unmodifiableList(java.util.Arrays.asList(
                new ACL(ZooDefs.Perms.ALL, ZooDefs.Ids.AUTH_IDS),
                new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)));

        @Override
        public List<ACL> getDefaultAcl() {
            return ACLS;
        }

        @Override
        public List<ACL> getAclForPath(String path) {
            return ACLS;
        }
    }

    private void ensureLayout(CuratorFramework ns) throws Exception {
        synchronized (layoutLock) {
            if (!layoutReady) {
                createLayout(ns);
            }
        }
    }

    private void createLayout(CuratorFramework ns) throws Exception {
        for (String path : List.of(LOCKS, OWNERS, InstanceMarkers.INSTANCES)) {
            // Look first: a client without the credentials of an ACL-protected namespace may not even try.
            if (ns.checkExists().forPath(path) == null) {
                try {
                    ns.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path);
                } catch (KeeperException.NodeExistsException e) {
                    // Created meanwhile by another client.
                }
            }
        }
        refreshEpoch(ns);
        if (options != null && options.auth() != null && !aclChecked) {
            aclChecked = true;
            for (ACL acl : ns.getACL().forPath(LOCKS)) {
                int writes = ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE;
                if ("world".equals(acl.getId().getScheme()) && (acl.getPerms() & writes) != 0) {
                    log.warn("{}: /{}{} was created without credentials and lets any client create and delete"
                            + " lock nodes; auth protects only nodes created with it. Restrict it with setAcl"
                            + " or use a new namespace", id, namespace, LOCKS);
                }
            }
        }
        layoutReady = true;
    }

    private void stateChanged(CuratorFramework client, ConnectionState state) {
        switch (state) {
            case LOST -> {
                sessionGeneration.incrementAndGet();
                if (!execHolds.isEmpty()) {
                    log.warn("{}: the ZooKeeper session was lost; the {} execute lock(s) taken in it are gone and"
                            + " their jobs' handles turn lost", id, execHolds.size());
                } else {
                    log.warn("{}: the ZooKeeper session was lost", id);
                }
                watches.wakeAll();
            }
            case SUSPENDED -> log.warn("{}: connection to ZooKeeper suspended; calls wait up to the connection"
                    + " timeout for it to come back", id);
            case RECONNECTED -> {
                log.info("{}: reconnected to ZooKeeper", id);
                watches.wakeAll();
            }
            default -> {
                // CONNECTED, READ_ONLY: nothing to do.
            }
        }
    }

    /** The root client once started, else null (for tests that expire its session). */
    @Nullable CuratorFramework startedClient() {
        Started s = started;
        return s == null ? null : s.root;
    }

    private long sessionId() throws Exception {
        Started s = Objects.requireNonNull(started);
        return s.root.getZookeeperClient().getZooKeeper().getSessionId();
    }

    private String describe() {
        ZookeeperOptions o = options;
        if (o == null) {
            return "application's CuratorFramework, namespace /" + namespace;
        }
        return o.serverCount() + " server(s), namespace /" + namespace + ", session timeout " + o.sessionTimeout()
                + (o.auth() == null ? "" : ", digest auth");
    }

    private RuntimeException failure(String action, List<String> keys, Exception e) {
        String what = keys.isEmpty() ? action : action + " " + keys;
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new LockingException(id + ": interrupted while " + what, e);
        }
        if (e instanceof LockingException le) {
            return le;
        }
        if (closed && e instanceof IllegalStateException) {
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

    private void checkAttempts(int attempt, String action, List<String> keys, Failure failure) {
        if (attempt >= MAX_ATTEMPTS) {
            throw new LockingException(id + ": gave up " + action + " " + keys + " after " + attempt
                    + " attempts: other clients kept changing the nodes (last: " + failure.code + " on "
                    + failure.step.path + ")");
        }
    }

    /**
     * Fails a call on keys where a node is not a lock of this provider (foreign data, a node of the first
     * version, or a lock node with children), before anything is written: the call changes nothing.
     */
    private void refuseForeign(List<String> keys, List<@Nullable Node> nodes, String action) {
        for (int i = 0; i < keys.size(); i++) {
            Node node = nodes.get(i);
            if (node != null && node.problem != null) {
                throw foreign(keys.get(i), node.problem, action);
            }
        }
    }

    private LockingException foreign(String key, String problem, String action) {
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
    private void refuseLostMarker(CuratorFramework ns, Failure failure, String action) throws Exception {
        Step step = failure.step;
        if ((step.kind != Kind.MARKER_CHECK && step.kind != Kind.MARKER_DELETE)
                || failure.code != KeeperException.Code.NONODE || step.lockPath == null) {
            return;
        }
        Node now = read(ns, step.lockPath, false);
        if (now != null && now.stat.getCzxid() == step.czxid && ns.checkExists().forPath(step.path) == null) {
            String problem = "has lost its instance marker " + step.path;
            if (step.key != null) {
                throw foreign(step.key, problem, action);
            }
            throw new LockingException(id + ": cannot " + action + " /" + namespace + step.lockPath + ": the node "
                    + problem + ". Nothing was changed; releaseAll() removes it");
        }
    }

    /** Fails a call whose transaction could not delete an owner index entry because someone put nodes under it. */
    private void refuseForeignIndex(Failure failure, String action) {
        Step step = failure.step;
        if (step.kind == Kind.INDEX_DELETE && failure.code == KeeperException.Code.NOTEMPTY && step.key != null) {
            throw new LockingException(id + ": cannot " + action + " key \"" + step.key + "\": its owner index entry /"
                    + namespace + step.path + " " + HAS_CHILDREN + ". Nothing was changed; remove those nodes to use"
                    + " this key");
        }
    }

    // ------------------------------------------------------------------------------------------ helpers

    static boolean isExecuteOwner(@Nullable String ownerId) {
        return ownerId != null && ownerId.startsWith(EXECUTE_OWNER_PREFIX);
    }

    /** Whether the owner's locks are listed under {@code /owners} (named owners of {@code acquire} only). */
    static boolean hasIndex(@Nullable String ownerId) {
        return ownerId != null && !isExecuteOwner(ownerId);
    }

    /** Drops released keys from an {@code execute} owner's in-memory index, and the owner once it holds none. */
    private void forgetExecKeys(@Nullable String ownerId, List<String> keys) {
        if (isExecuteOwner(ownerId)) {
            execHolds.computeIfPresent(Objects.requireNonNull(ownerId), (owner, hold) -> {
                Set<String> left = new HashSet<>(hold.keys);
                keys.forEach(left::remove);
                return left.isEmpty() ? null : new ExecHold(hold.generation, Set.copyOf(left), null);
            });
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }

    static String lockPath(String key) {
        return LOCKS + "/" + Segments.encode(key);
    }

    static String ownerPath(String ownerId) {
        return OWNERS + "/" + Segments.encode(ownerId);
    }

    static String indexPath(String ownerId, String key) {
        return ownerPath(ownerId) + "/" + Segments.encode(key);
    }

    private void rememberContainer(String path) {
        if (knownContainers.size() >= MAX_CACHED_CONTAINERS) {
            knownContainers.clear();
        }
        knownContainers.add(path);
    }

    private void forgetContainer(String path) {
        knownContainers.remove(path);
    }

    private static long saturatedMillis(Duration d) {
        try {
            return d.toMillis();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Remembers that a key was found held, so that the next attempts on it read before they write: a
     * create that fails still costs the ensemble a transaction (ZooKeeper logs a failed multi), and
     * waiters retry a held key again and again. Forgotten once this provider creates the key's node; a key
     * it re-entered stays (re-entering fails a create, too).
     */
    private void markContested(String lockPath) {
        if (contested.size() >= MAX_CONTESTED) {
            contested.clear();
        }
        contested.add(lockPath);
    }

    private void forgetContested(List<String> keys) {
        if (!contested.isEmpty()) {
            for (String key : keys) {
                contested.remove(lockPath(key));
            }
        }
    }

    private boolean anyContested(List<String> lockPaths) {
        if (contested.isEmpty()) {
            return false;
        }
        for (String path : lockPaths) {
            if (contested.contains(path)) {
                return true;
            }
        }
        return false;
    }

    /** What a call that has not read yet assumes: that no key has a node. */
    private static List<@Nullable Node> noNodes(int count) {
        List<@Nullable Node> nodes = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            nodes.add(null);
        }
        return nodes;
    }

    private static List<String> lockPaths(List<String> keys) {
        List<String> paths = new ArrayList<>(keys.size());
        for (String key : keys) {
            paths.add(lockPath(key));
        }
        return paths;
    }

    /**
     * Reads nodes in one round trip, several keys with one read-only {@code multi} (ZooKeeper 3.6+), so a
     * call on k keys waits for one reply instead of k. The reads of one multi are served together, but
     * like separate reads they are not one snapshot: the versions they return are what the following
     * transaction is checked against, so a node changed in between fails it, as before.
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
     *   <li>"held by another" ({@link AcquireResult.Conflict}) is read again with {@code sync} unless the call
     *       has synced or written already: a sync costs no disk write, and conflicts are the common answer
     *       of waiting callers. On a follower this is exact. On the leader, {@code sync} does nothing, so a
     *       key released through another server a moment before may still be reported held; a waiting
     *       caller is then woken by the delete's watch, and an immediate {@code acquire} fails.
     * </ul>
     * The sync is sent just before the read, not waited for: the server answers one session's requests in
     * order, so the read waits for it, and the pair costs about one round trip to the leader.
     *
     * @param sync whether to catch up with the leader before reading
     * @return per path its node, or {@code null} where there is none
     */
    private static List<@Nullable Node> readAll(CuratorFramework ns, List<String> paths, boolean sync)
            throws Exception {
        List<@Nullable Node> nodes = new ArrayList<>(paths.size());
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
                nodes.add(Node.of(data.getData(), data.getStat()));
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
    private static @Nullable Node read(CuratorFramework ns, String path, boolean sync) throws Exception {
        if (!sync) {
            Stat stat = new Stat();
            try {
                byte[] bytes = ns.getData().storingStatIn(stat).forPath(path);
                return Node.of(bytes, stat);
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
                return Node.of(zk.getData(fullPath, false, stat), stat);
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
    private static void barrier(CuratorFramework ns) throws Exception {
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

    /**
     * A lock node as read: its data, its stat (version, czxid, ephemeral owner, children) and, for a node
     * that is not a lock of this provider, why not (words that follow "the node"); else {@code problem} is null.
     */
    private record Node(LockData data, Stat stat, @Nullable String problem) {
        static Node of(byte @Nullable [] bytes, Stat stat) {
            String problem = LockData.problem(bytes);
            if (problem == null && stat.getNumChildren() > 0) {
                problem = HAS_CHILDREN; // a lock node never has children (ephemeral ones cannot)
            }
            return new Node(LockData.parse(bytes), stat, problem);
        }
    }

    enum Kind {
        LOCK_CREATE, LOCK_DELETE, LOCK_SET, LOCK_CHECK, MARKER_CREATE, MARKER_DELETE, MARKER_CHECK,
        INDEX_CREATE, INDEX_DELETE, CONTAINER_CREATE, PROBE
    }

    /**
     * One operation of a transaction, kept to interpret a failure; for an operation on a node that was read,
     * its key (when known) and the czxid it had then.
     */
    private record Step(Kind kind, String path, @Nullable String key, @Nullable String lockPath, long czxid) {}

    /** Why a transaction failed: the first operation that failed and its error. */
    private record Failure(Step step, KeeperException.Code code, KeeperException cause) {
        /** Failures that mean "the nodes changed since they were read" are retried; others are thrown. */
        void rethrowUnlessRetryable() throws KeeperException {
            switch (code) {
                case NODEEXISTS, NONODE, BADVERSION, NOTEMPTY -> {
                    // retried
                }
                default -> throw cause;
            }
        }
    }

    /** The operations of one transaction, with what each one is for. */
    private static final class Plan {
        private final CuratorFramework ns;
        private final List<CuratorOp> ops = new ArrayList<>();
        private final List<Step> steps = new ArrayList<>();
        private @Nullable List<CuratorTransactionResult> results;

        Plan(CuratorFramework ns) {
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
        void deleteLock(@Nullable String key, String path, Node node) throws Exception {
            add(new Step(Kind.LOCK_DELETE, path, key, path, node.stat.getCzxid()),
                    ns.transactionOp().delete().withVersion(node.stat.getVersion()).forPath(path));
            String instance = node.data.instance();
            if (!instance.isEmpty()) {
                String marker = InstanceMarkers.path(path, instance);
                add(new Step(Kind.MARKER_DELETE, marker, key, path, node.stat.getCzxid()),
                        ns.transactionOp().delete().forPath(marker));
            }
        }

        /** Sets the data of the node instance that was read. */
        void setData(String key, String path, byte[] data, Node node) throws Exception {
            add(new Step(Kind.LOCK_SET, path, key, path, node.stat.getCzxid()),
                    ns.transactionOp().setData().withVersion(node.stat.getVersion()).forPath(path, data));
            checkMarker(key, path, node);
        }

        /** Checks that the node at the path is still the instance that was read, unchanged. */
        void check(String key, String path, Node node) throws Exception {
            add(new Step(Kind.LOCK_CHECK, path, key, path, node.stat.getCzxid()),
                    ns.transactionOp().check().withVersion(node.stat.getVersion()).forPath(path));
            checkMarker(key, path, node);
        }

        private void checkMarker(String key, String path, Node node) throws Exception {
            String marker = InstanceMarkers.path(path, node.data.instance());
            add(new Step(Kind.MARKER_CHECK, marker, key, path, node.stat.getCzxid()),
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
}
