package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.hasIndex;
import static dev.locking.zookeeper.LockPaths.indexPath;
import static dev.locking.zookeeper.LockPaths.isExecuteOwner;
import static dev.locking.zookeeper.LockPaths.lockPath;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.BackendCalls;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import dev.locking.zookeeper.ExecuteOwnerHolds.Hold;
import dev.locking.zookeeper.TransactionPlan.Failure;
import dev.locking.zookeeper.TransactionPlan.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lp_zookeeper}: locks as znodes, written with ZooKeeper multi-operation transactions. This class
 * maps the SPI onto the parts that do the work: {@link ZookeeperSession} (client, session, layout),
 * {@link Acquire}, {@link ReleaseAll}, {@link UnreadRelease}, {@link FreshReads}, {@link TransactionPlan},
 * {@link ExecuteOwnerHolds}, {@link KeyWatches} and {@link ZookeeperFailures}.
 *
 * <h2>Layout (under the namespace, {@code /locking} by default)</h2>
 * <pre>
 * /locks/&lt;key&gt;                   one node per held key; data = {@link LockData} (owner, expiry, instance id);
 *                                  its creation zxid (czxid) is the fencing token
 * /instances/&lt;key&gt;~&lt;id&gt;         the node's {@linkplain InstanceMarkers instance marker}
 * /owners/&lt;owner&gt;                 a container node per owner (ZooKeeper removes it once empty)
 * /owners/&lt;owner&gt;/&lt;key&gt;           the owner index: one empty node per key the owner holds
 * </pre>
 * Keys and owners are single segments made by {@link Segments#encode} ({@link LockPaths}). Anonymous locks
 * and the locks of {@code execute} owners have no index entry (see below). The index entry is always
 * created and deleted in the same transaction as its lock node.
 *
 * <h2>Ephemeral and persistent locks</h2>
 * An owner id that starts with {@value #EXECUTE_OWNER_PREFIX} (the core's owners for {@code execute})
 * gets EPHEMERAL lock nodes, tied to this client's session: when the session ends (the process crashed, or
 * was cut off for longer than the session timeout) ZooKeeper deletes them. Every other lock (from
 * {@code acquire}) is PERSISTENT, outlives the process and is free once its lease lapses. An
 * {@code execute} owner's index is kept in memory ({@link ExecuteOwnerHolds}), which saves the owner
 * container and one index node per key in every {@code execute}'s two transactions.
 *
 * <h2>Leases and clocks</h2>
 * A lease's expiry is written as epoch milliseconds of the writing client's wall clock (now + lease) and
 * is judged by the reading client's wall clock: a lapsed node is free and is taken over by deleting it
 * (with its version and its instance marker, so that only the very node judged lapsed goes) and creating a
 * new one in the same transaction. The clocks of all clients must therefore agree (NTP); a client whose
 * clock runs ahead by S sees leases lapse S early. ZooKeeper never deletes a lapsed persistent node by
 * itself: it stays until the key is acquired, released or {@code releaseAll()} runs.
 *
 * <h2>Sessions</h2>
 * When the session is lost, {@link ZookeeperSession#generation()} goes up; {@link #extend} of an
 * {@code execute} owner whose locks were taken in an earlier generation returns false at once, and any
 * {@code extend} of an {@code execute} owner checks that the node's ephemeral owner is the current session,
 * so the core turns the job's handle lost.
 *
 * <h2>Concurrency</h2>
 * An operation reads the nodes it needs (all keys with one read-only multi), decides, and commits one
 * transaction whose deletes and updates carry the versions it read and delete or check the instance markers
 * of the nodes it read; if any node changed or was replaced in between, the transaction fails as a whole
 * and the operation reads and decides again (a bounded number of times). Two shortcuts skip the read when
 * its answer is known: {@link Acquire} creates keys it has no reason to think held straight away, and an
 * {@code execute}'s release deletes the nodes its acquire created with the versions they were created with
 * ({@link UnreadRelease}). A read may come from a server that lags behind; answers given from a read alone
 * are made fresh first (see {@link FreshReads}). This class holds no mutable state of its own; the parts it
 * calls (and the toolkit's {@link BackendCalls}) are thread-safe, and each says how.
 */
final class ZookeeperLockingProvider implements LockingProvider {
    private static final Logger log = LoggerFactory.getLogger(ZookeeperLockingProvider.class);
    /** The shortest wait in {@link #awaitRelease}: a wait of less than this lasts this long. */
    private static final long MIN_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** The largest session timeout a ZooKeeper server grants by default (20 ticks of 2 s). */
    private static final Duration MAX_DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(40);

    private final String id;
    private final LockingClock clock;
    private final ZookeeperFailures failures;
    private final ZookeeperSession session;
    private final ExecuteOwnerHolds holds = new ExecuteOwnerHolds();
    private final KeyWatches watches = new KeyWatches();
    private final Acquire acquire;
    private final UnreadRelease unreadRelease;
    private final ReleaseAll releaseAll;
    /** Runs every call that changes locks so that an interrupt cannot cut it short, within {@link #callBound}. */
    private final BackendCalls calls;

    private ZookeeperLockingProvider(String id, String namespace, LockingClock clock,
            @Nullable ZookeeperOptions options, @Nullable CuratorFramework givenClient) {
        this.id = id;
        this.clock = clock;
        LocksEpoch epoch = new LocksEpoch(id);
        this.session = new ZookeeperSession(id, namespace, options, givenClient, epoch, holds::size,
                watches::wakeEveryone);
        this.failures = session.failures();
        this.calls = new BackendCalls(id, "ZooKeeper", callBound(options, givenClient),
                (failure, operation) -> failures.failure(operation, List.of(),
                        failure instanceof Exception e ? e : new ExecutionException(failure)));
        this.acquire = new Acquire(id, clock, session, epoch, holds, failures);
        this.unreadRelease = new UnreadRelease(id, clock, holds, epoch, session::generation);
        this.releaseAll = new ReleaseAll(id, namespace, failures, epoch);
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
        CuratorFramework ns = session.ready();
        String nonce = UUID.randomUUID().toString();
        // ZooKeeper's client gives up on a request when an interrupt ends its wait, though the server may carry
        // it out: a caller told "failed" would never release the nodes. Run again with the same nonce (which
        // makes nodes the first request created this call's own), the acquire is safe to repeat.
        return calls.call(() -> acquire.acquire(ns, keys, ownerId, lease, nonce), "acquiring " + keys, true);
    }

    // ------------------------------------------------------------------------------------------- extend

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        // Safe to send again: a second extend of the same owner's keys sets the same kind of expiry.
        return calls.call(() -> extendNow(keys, ownerId, lease), "extending " + keys, true);
    }

    private boolean extendNow(List<String> keys, String ownerId, Duration lease) {
        boolean ephemeral = isExecuteOwner(ownerId);
        if (ephemeral) {
            // The versions and the expiry change: the release reads again.
            Hold taken = holds.extending(ownerId);
            if (taken != null && taken.generation() != session.generation()) {
                log.debug("{}: not extending {} for {}: the session that held them was lost", id, keys, ownerId);
                return false;
            }
        }
        CuratorFramework ns = session.ready();
        try {
            // A change the read missed fails the transaction (versions), which reads again; a "no" is only
            // given by a read that follows a transaction of this call (see FreshReads).
            boolean written = false;
            for (int attempt = 1; ; attempt++) {
                long now = clock.currentTimeMillis();
                long sessionId = ephemeral ? session.sessionId() : 0L;
                long newExpiry = Leases.expiryMillis(now, lease);
                TransactionPlan plan = new TransactionPlan(ns);
                List<String> paths = LockPaths.lockPaths(keys);
                List<@Nullable LockNode> nodes = FreshReads.readAll(ns, paths, false);
                failures.refuseForeign(keys, nodes, "extend");
                String lost = null;
                for (int i = 0; i < keys.size() && lost == null; i++) {
                    LockNode node = nodes.get(i);
                    if (node == null || !node.data().ownedBy(ownerId) || node.data().lapsedAt(now)
                            || (ephemeral && node.stat().getEphemeralOwner() != sessionId)) {
                        lost = keys.get(i);
                    } else {
                        plan.setData(keys.get(i), paths.get(i), node.data().withExpiry(newExpiry).toBytes(), node);
                    }
                }
                if (lost != null) {
                    if (!written) {
                        FreshReads.barrier(ns);
                        written = true;
                        continue;
                    }
                    log.debug("{}: not extending {} for {}: {} is no longer held by it", id, keys, ownerId, lost);
                    return false;
                }
                Failure failure = plan.commit();
                written = true;
                if (failure == null) {
                    log.debug("{}: extended {} for {} to {}", id, keys, ownerId, Instant.ofEpochMilli(newExpiry));
                    return true;
                }
                failures.refuseLostMarker(ns, failure, "extend");
                failure.rethrowUnlessRetryable();
                failures.checkAttempts(attempt, "extending", keys, failure);
            }
        } catch (Exception e) {
            throw failures.failure("extending", keys, e);
        }
    }

    // ------------------------------------------------------------------------------------------ release

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        // Not sent again after an interrupt: the keys may have been taken anew meanwhile, and a second release
        // would free an anonymous lock that is not the caller's. It reports that it may have taken effect.
        return calls.call(() -> releaseNow(keys, ownerId), "releasing " + keys, false);
    }

    private boolean releaseNow(List<String> keys, @Nullable String ownerId) {
        CuratorFramework ns = session.ready();
        Set<String> missingIndex = new HashSet<>();
        try {
            if (unreadRelease.released(ns, keys, ownerId)) {
                return true;
            }
            // A key found missing, or not this owner's, is read again after a transaction of this call before
            // the answer says so: the read may come from a server that lags behind (see FreshReads).
            boolean written = false;
            for (int attempt = 1; ; attempt++) {
                long now = clock.currentTimeMillis();
                TransactionPlan plan = new TransactionPlan(ns);
                boolean all = true;
                List<String> releasing = new ArrayList<>();
                List<String> paths = LockPaths.lockPaths(keys);
                List<@Nullable LockNode> nodes = FreshReads.readAll(ns, paths, false);
                failures.refuseForeign(keys, nodes, "release");
                for (int i = 0; i < keys.size(); i++) {
                    String key = keys.get(i);
                    LockNode node = nodes.get(i);
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
                    plan.deleteLock(key, paths.get(i), node);
                    if (holder != null && hasIndex(holder)) {
                        String index = indexPath(holder, key);
                        if (!missingIndex.contains(index)) {
                            plan.deleteIndex(key, index);
                        }
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
                    log.debug("{}: released {} of {} for {}", id, releasing, keys, ownerId);
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
        } catch (Exception e) {
            throw failures.failure("releasing", keys, e);
        }
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        // Safe to send again: what it releases is chosen by owner (or everything), not by what was read.
        calls.run(() -> releaseAllNow(ownerId), ownerId == null ? "releasing every lock" : "releasing the locks of " + ownerId, true);
    }

    private void releaseAllNow(@Nullable String ownerId) {
        CuratorFramework ns = session.ready();
        try {
            if (ownerId == null) {
                releaseAll.everything(ns);
                holds.clear();
            } else if (isExecuteOwner(ownerId)) {
                // Its index is in memory: only this provider's session can hold its locks.
                Hold hold = holds.get(ownerId);
                if (hold != null) {
                    releaseNow(hold.keys().stream().sorted().toList(), ownerId);
                }
                holds.remove(ownerId);
            } else {
                releaseAll.ofOwner(ns, ownerId);
            }
        } catch (Exception e) {
            throw failures.failure(ownerId == null ? "releasing every lock" : "releasing the locks of " + ownerId,
                    List.of(), e);
        }
    }

    // ------------------------------------------------------------------------------------------ inspect

    @Override
    public Optional<LockInfo> inspect(String key) {
        CuratorFramework ns = session.ready();
        try {
            FreshReads.barrier(ns); // so that the read reflects every lock taken or released before this call, anywhere
            LockNode node = FreshReads.read(ns, lockPath(key), false);
            String problem = node == null ? null : node.problem();
            if (problem != null) {
                throw failures.foreign(key, problem, "inspect");
            }
            if (node == null || node.data().lapsedAt(clock.currentTimeMillis())) {
                return Optional.empty();
            }
            return Optional.of(new LockInfo(key, node.data().owner(), node.data().expiresAt(),
                    node.stat().getCzxid()));
        } catch (Exception e) {
            throw failures.failure("inspecting", List.of(key), e);
        }
    }

    // -------------------------------------------------------------------------------------------- await

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        CuratorFramework ns = session.ready();
        List<String> paths = LockPaths.lockPaths(keys);
        long maxNanos = Math.max(MIN_WAIT_NANOS, saturatedNanos(maxWait));
        try {
            watches.await(paths, maxNanos, clock.currentTimeMillis(), (path, watcher) -> {
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
            throw failures.failure("waiting for", keys, e);
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * The deadline of an acquire: a backstop well past what the client's own timeouts allow (a call waits
     * up to the connection timeout for a connection and retries once; a silent server is noticed after
     * about two thirds of the session timeout), so it cuts off only a call that would otherwise hang. For
     * the application's client, whose session timeout is not known before it connects, ZooKeeper's
     * largest default session timeout (40 s) stands in.
     */
    static Duration callBound(@Nullable ZookeeperOptions options, @Nullable CuratorFramework givenClient) {
        Duration connection = options != null ? options.connectionTimeout()
                : Duration.ofMillis(Objects.requireNonNull(givenClient).getZookeeperClient()
                        .getConnectionTimeoutMs());
        Duration sessionTimeout = options != null ? options.sessionTimeout() : MAX_DEFAULT_SESSION_TIMEOUT;
        return connection.plus(sessionTimeout).multipliedBy(2);
    }

    // -------------------------------------------------------------------------------------------- close

    @Override
    public void close() {
        if (!session.close()) {
            return;
        }
        calls.close();
        log.debug("{}: closed", id);
    }

    /** The root client once started, else null (for tests that expire its session). */
    @Nullable CuratorFramework startedClient() {
        return session.startedClient();
    }
}
