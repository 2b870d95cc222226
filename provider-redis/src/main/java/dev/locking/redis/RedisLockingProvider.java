package dev.locking.redis;

import static dev.locking.redis.ScriptReplies.list;
import static dev.locking.redis.ScriptReplies.number;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.BackendCalls;
import dev.locking.spi.support.GrantInbox;
import dev.locking.spi.support.KeyWaiters;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lp_redis}: locks as Redis strings, changed only by the Lua scripts next to this class.
 *
 * <p>See {@link KeyLayout} for what lives where. Each operation is one script call ({@code EVALSHA},
 * {@link LockScripts}) on a server that is not a cluster. In a cluster a script may only touch keys of one hash
 * slot, so an operation on keys of several slots makes one call per slot ({@link SlotGroup}): {@link #tryAcquire}
 * takes the slots one after another in the order of their smallest key and, when a later slot conflicts, rolls
 * the earlier ones back ({@link SlotRollback}); and the owner index, which lives in its own slot, is kept by a
 * separate call. {@code releaseAll} is {@link ReleaseAll}'s.
 *
 * <p>Waiting: a single-key {@code execute} waits in the lock's queue in Redis ({@link #acquireOrQueue},
 * {@link #awaitGrant}, {@link #leaveQueue}): the release script hands the lock to the first live queued owner and
 * publishes a grant, which the {@link ReleaseChannel} gives to the owner's slot in the {@link GrantInbox}. Other
 * waits ({@link #awaitRelease}) register in the provider's {@link KeyWaiters}, and the {@link ReleaseChannel} wakes
 * the first waiter of a lock when a release script announces it. Every wait for a reply goes through
 * {@link BackendCalls} ({@link RedisConnection#calls()}).
 *
 * <p>Concurrency: the provider keeps no lock state in the JVM; everything is in Redis and every change is one
 * atomic script. Its fields are final; the shared JVM state is the client ({@link RedisConnection}), the
 * waiters ({@link KeyWaiters}), the expected grants ({@link GrantInbox}) and the subscription
 * ({@link ReleaseChannel}), each safe for concurrent use.
 */
final class RedisLockingProvider implements LockingProvider {
    private static final Logger log = LoggerFactory.getLogger(RedisLockingProvider.class);

    /** The longest a waiter sleeps before it looks again, so that a release nobody announced (a lease that ran
     * out, a key deleted by hand, a notification lost in a reconnect) still frees it soon. */
    static final Duration MAX_WAIT_SLICE = Duration.ofSeconds(1);
    /** How much longer than a waiter's sleep its "someone waits" mark lasts (the reply's way back, say). */
    static final Duration MARK_SLACK = Duration.ofSeconds(1);
    /** What wait.lua reports for a lock that is free. */
    private static final long FREE = -2L;

    private final String id;
    private final KeyLayout layout;
    private final boolean cluster;
    private final RedisConnection connection;
    private final BackendCalls calls;
    private final LockScripts scripts;
    private final KeyWaiters waiters;
    private final GrantInbox grants = new GrantInbox();
    private final ReleaseChannel channel;
    private final ReleaseAll releaseAll;
    private final LockingClock clock;
    private final Duration maxWaitSlice;

    RedisLockingProvider(String id, RedisSettings settings, @Nullable RedissonClient borrowed) {
        this(id, settings, borrowed, MAX_WAIT_SLICE);
    }

    /** For tests: a longer slice shows that a waiter wakes by notification, not by looking again. */
    RedisLockingProvider(String id, RedisSettings settings, @Nullable RedissonClient borrowed,
            Duration maxWaitSlice) {
        this.maxWaitSlice = maxWaitSlice;
        this.id = id;
        this.layout = settings.layout;
        this.cluster = settings.cluster;
        this.connection = new RedisConnection(id, settings, borrowed);
        this.calls = connection.calls();
        this.scripts = new LockScripts(connection, layout, ReleaseChannel.Published.of(id, layout, borrowed));
        this.waiters = new KeyWaiters(maxWaitSlice);
        this.channel = new ReleaseChannel(id, connection, layout, waiters, grants);
        this.releaseAll = new ReleaseAll(id, layout, cluster, connection, scripts);
        this.clock = LockingClock.SYSTEM;
    }

    @Override
    public String id() {
        return id;
    }

    KeyLayout layout() {
        return layout;
    }

    /** For tests: how many lock keys have a waiter now. */
    int waitingKeys() {
        return waiters.waitingKeys();
    }

    /** For tests: how many threads are blocked waiting for a notification now. */
    int sleepingWaiters() {
        return waiters.sleepingWaiters();
    }

    /** For tests: how many owners queued by this provider expect a grant now (a waiting single-key execute). */
    int expectedGrants() {
        return grants.expected();
    }

    /** For tests: whether a grant for this owner has arrived and waits to be taken by its {@code awaitGrant}. */
    boolean hasGrantFor(String ownerId) {
        GrantInbox.Slot slot = grants.slotOf(ownerId);
        return slot != null && slot.grant() != null;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        checkOpen();
        String owner = ownerId == null ? "" : ownerId;
        long leaseMillis = lease == null ? 0 : Leases.toMillis(lease);
        Instant sentAt = clock.wallTime();
        List<SlotGroup> groups = SlotGroup.of(keys, layout, cluster);
        @Nullable String index = ownerId != null && !cluster ? layout.ownerIndexKey(ownerId) : null;

        long[] tokens = new long[keys.size()];
        SlotRollback taken = new SlotRollback(scripts, calls, owner, leaseMillis, groups.size());
        long minTtl = -1;
        for (int g = 0; g < groups.size(); g++) {
            SlotGroup group = groups.get(g);
            long groupSent = System.nanoTime();
            Object answer;
            try {
                answer = calls.await(scripts.acquire(group, owner, leaseMillis, index), "tryAcquire");
            } catch (RuntimeException e) {
                taken.undoAfterFailure(e);
                throw e;
            }
            if (answer instanceof Long token) {
                // One key, and it was free: the script sent only its token.
                long ttl = leaseMillis > 0 ? leaseMillis : -1;
                if (ttl >= 0 && (minTtl < 0 || ttl < minTtl)) {
                    minTtl = ttl;
                }
                tokens[group.positions.get(0)] = token;
                taken.taken(group, new long[] {token}, new long[] {SlotRollback.WAS_FREE}, groupSent);
                continue;
            }
            List<Object> reply = list(answer);
            if (number(reply, 0) == 0) {
                int conflict = group.positions.get(ScriptReplies.position(reply, 1));
                taken.undo();
                String key = keys.get(taken.firstConflict(keys, groups.subList(g + 1, groups.size()), conflict));
                log.debug("{} did not acquire {}: \"{}\" is held", id, keys, key);
                return new AcquireResult.Conflict(key);
            }
            long ttl = number(reply, 1);
            if (ttl >= 0 && (minTtl < 0 || ttl < minTtl)) {
                minTtl = ttl;
            }
            int n = group.size();
            long[] prior = new long[n];
            long[] groupTokens = new long[n];
            for (int i = 0; i < n; i++) {
                groupTokens[i] = number(reply, 2 + i);
                prior[i] = number(reply, 2 + n + i);
                tokens[group.positions.get(i)] = groupTokens[i];
            }
            taken.taken(group, groupTokens, prior, groupSent);
        }
        if (ownerId != null && cluster) {
            try {
                calls.await(scripts.indexAdd(layout.ownerIndexKey(ownerId), leaseMillis, scripts.lockKeys(keys)),
                        "tryAcquire");
            } catch (RuntimeException e) {
                taken.undoAfterFailure(e);
                throw e;
            }
        }
        AcquireResult.Acquired acquired =
                AcquireResult.Acquired.of(keys, tokens, minTtl >= 0 ? sentAt.plusMillis(minTtl) : null);
        if (log.isDebugEnabled()) {
            log.debug("{} acquired {} for {} until {} (tokens {})", id, keys, ownerLabel(ownerId),
                    acquired.expiresAt() == null ? "released" : acquired.expiresAt(), acquired.fencingTokens());
        }
        return acquired;
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        checkOpen();
        long leaseMillis = Leases.toMillis(lease);
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        @Nullable String index = cluster ? null : layout.ownerIndexKey(ownerId);
        for (SlotGroup group : SlotGroup.of(keys, layout, cluster)) {
            futures.add(scripts.extend(group, ownerId, leaseMillis, index));
        }
        if (cluster) {
            futures.add(scripts.indexAdd(layout.ownerIndexKey(ownerId), leaseMillis, scripts.lockKeys(keys))
                    .thenApply(ignored -> 1L));
        }
        boolean all = true;
        for (CompletableFuture<Long> future : futures) {
            all &= calls.await(future, "extend") == 1L;
        }
        if (log.isDebugEnabled()) {
            log.debug("{} {} the lease of {} for {} to {}", id, all ? "extended" : "could not extend", keys,
                    ownerLabel(ownerId), lease);
        }
        return all;
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        checkOpen();
        String owner = ownerId == null ? "" : ownerId;
        @Nullable String index = ownerId != null && !cluster ? layout.ownerIndexKey(ownerId) : null;
        List<SlotGroup> groups = SlotGroup.of(keys, layout, cluster);
        List<CompletableFuture<Long>> futures = new ArrayList<>(groups.size());
        for (SlotGroup group : groups) {
            futures.add(scripts.release(scripts.lockKeys(group.keys), owner, index, true));
        }
        boolean all = true;
        for (CompletableFuture<Long> future : futures) {
            all &= calls.await(future, "release") == 1L;
        }
        if (ownerId != null && cluster) {
            // After the release none of these keys is the owner's, released or not.
            calls.await(scripts.indexRemove(layout.ownerIndexKey(ownerId), scripts.lockKeys(keys)), "release");
        }
        if (log.isDebugEnabled()) {
            log.debug("{} released {} for {}: {}", id, keys, ownerLabel(ownerId), all ? "all" : "not all");
        }
        return all;
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        checkOpen();
        if (ownerId != null) {
            releaseAll.ofOwner(ownerId);
        } else {
            releaseAll.everything();
        }
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        checkOpen();
        Instant sentAt = clock.wallTime();
        List<Object> reply = calls.await(scripts.peek(List.of(key), true), "inspect");
        Object value = reply.get(0);
        if (value == null) {
            return Optional.empty();
        }
        String owner = value.toString();
        long pttl = number(reply, 1);
        Instant expiresAt = pttl >= 0 ? sentAt.plusMillis(pttl) : null;
        return Optional.of(new LockInfo(key, owner.isEmpty() ? null : owner, expiresAt, number(reply, 2)));
    }

    /**
     * Registers as a waiter for the keys, then looks at them once: if none is held it returns at once;
     * otherwise it sleeps until a release of one of them wakes it, or the first lease among them runs
     * out, or {@link #MAX_WAIT_SLICE}, or {@code maxWait}, whichever comes first. The look also marks the
     * held keys as waited for (wait.lua), for the length of the sleep plus {@link #MARK_SLACK}: a release
     * announces only locks with such a mark, so releases nobody waits for cost no message to any process. A
     * release wakes the local waiter of the key that registered first (see {@link KeyWaiters}); the caller
     * is expected to try to take the keys after a normal return, and a waiter that leaves by an exception
     * after being woken passes the wake-up on.
     */
    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        checkOpen();
        long start = System.nanoTime();
        channel.subscribe();
        List<String> lockKeys = new ArrayList<>(keys.size());
        for (String key : keys) {
            lockKeys.add(layout.lockKey(key));
        }
        try (KeyWaiters.Waiter waiter = waiters.register(lockKeys)) {
            long slice = Math.min(maxWait.toNanos(), maxWaitSlice.toNanos());
            // The marks wait.lua sets must outlive this sleep, which starts when its reply is back.
            String markMillis = Long.toString(TimeUnit.NANOSECONDS.toMillis(slice) + MARK_SLACK.toMillis());
            List<SlotGroup> groups = SlotGroup.of(keys, layout, cluster);
            List<CompletableFuture<List<Object>>> futures = new ArrayList<>(groups.size());
            for (SlotGroup group : groups) {
                futures.add(scripts.waitFor(group, markMillis));
            }
            boolean held = false;
            for (CompletableFuture<List<Object>> future : futures) {
                List<Object> reply = calls.awaitRead(future, "awaitRelease");
                for (int i = 0; i < reply.size(); i++) {
                    long pttl = number(reply, i);
                    if (pttl == FREE) {
                        continue;
                    }
                    held = true;
                    if (pttl >= 0) {
                        slice = Math.min(slice, TimeUnit.MILLISECONDS.toNanos(pttl + 1));
                    }
                }
            }
            waiter.sleepAfterLook(held, slice, start, maxWait, connection::isClosed);
        }
    }

    /** Yes: a release hands the lock to the first live owner of its queue in Redis (see queue.lua). */
    @Override
    public boolean handsOff() {
        return true;
    }

    /**
     * Runs queue.lua: takes the lock, or queues the owner (or keeps its place) for {@code stay} by the server's
     * clock. A lock handed to the owner lasts {@code min(lease, stay)} from the release: a short first lease, so
     * that a waiter that died blocks the lock for at most its stay (the core renews a granted lock early). An
     * owner that holds the lock already gets its token and expiry as they are. Before the script runs, the provider listens on its channel and expects the owner's grant
     * ({@link GrantInbox}), so that a grant sent right after the reply is not lost.
     */
    @Override
    public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
        checkOpen();
        channel.subscribe();
        long leaseMillis = Leases.toMillis(lease);
        long stayMillis = Leases.toMillis(stay);
        long sent = System.nanoTime();
        Instant sentAt = clock.wallTime();
        GrantInbox.Slot slot = grants.expect(ownerId, key, layout.lockKey(key), stay);
        String index = layout.ownerIndexKey(ownerId);
        List<Object> reply = calls.await(scripts.queue(key, ownerId, leaseMillis, stayMillis,
                Math.min(leaseMillis, stayMillis), cluster ? null : index), "acquireOrQueue");
        if (number(reply, 0) == 1) {
            grants.forget(ownerId);
            if (cluster && number(reply, 3) == 1) {
                // Taken now: its owner index, in another slot, lists it too (a grant was listed when queued).
                calls.await(scripts.indexAdd(index, leaseMillis, scripts.lockKeys(List.of(key))), "acquireOrQueue");
            }
            long pttl = number(reply, 2);
            return new AcquireResult.Acquired(Map.of(key, number(reply, 1)), pttl >= 0 ? sentAt.plusMillis(pttl) : null);
        }
        long pttl = number(reply, 1);
        slot.holderLapsesAfter(sent, pttl);
        if (cluster && number(reply, 2) == 1) {
            calls.await(scripts.indexAdd(index, stayMillis + Math.min(leaseMillis, stayMillis),
                    scripts.lockKeys(List.of(key))), "acquireOrQueue");
        }
        return new AcquireResult.Conflict(key);
    }

    /**
     * Sleeps until the {@link ReleaseChannel} delivers the owner's grant, {@code maxWait} passed, or the lease of
     * the lock's holder (as the owner's last {@link #acquireOrQueue} saw it) ran out: then the caller's next
     * {@code acquireOrQueue} may take the lock, since nobody announces an expiry.
     */
    @Override
    public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
            throws InterruptedException {
        checkOpen();
        long deadline = System.nanoTime() + nanosAtMost(maxWait);
        AcquireResult.Acquired grant = grants.awaitGrant(ownerId, key, layout.lockKey(key), deadline,
                connection::isClosed);
        if (grant != null && log.isDebugEnabled()) {
            log.debug("{} was handed {} for {} (token {})", id, key, ownerLabel(ownerId), grant.fencingTokens().get(key));
        }
        return grant;
    }

    /** Runs leave.lua: out of the queue, and a lock handed to the owner meanwhile goes on to the next. */
    @Override
    public void leaveQueue(String key, String ownerId) {
        checkOpen();
        grants.forget(ownerId);
        String index = layout.ownerIndexKey(ownerId);
        long held = calls.await(scripts.leave(key, ownerId, cluster ? null : index), "leaveQueue");
        if (cluster) {
            calls.await(scripts.indexRemove(index, scripts.lockKeys(List.of(key))), "leaveQueue");
        }
        if (log.isDebugEnabled()) {
            log.debug("{}: {} left the queue of {}{}", id, ownerLabel(ownerId), key,
                    held == 1 ? " and released it" : "");
        }
    }

    @Override
    public void close() {
        if (connection.isClosed()) {
            return;
        }
        waiters.wakeEveryone();
        grants.wakeEveryone();
        channel.close();
        connection.close();
    }

    private void checkOpen() {
        if (connection.isClosed()) {
            throw new IllegalStateException(id + " is closed");
        }
    }

    /** The duration in nanoseconds, at most a quarter of the long range (so that adding it to a time cannot wrap). */
    private static long nanosAtMost(Duration d) {
        return d.compareTo(Duration.ofNanos(Long.MAX_VALUE / 4)) > 0 ? Long.MAX_VALUE / 4 : d.toNanos();
    }

    static String ownerLabel(@Nullable String ownerId) {
        return ownerId == null ? "(anonymous)" : "owner \"" + ownerId + "\"";
    }
}
