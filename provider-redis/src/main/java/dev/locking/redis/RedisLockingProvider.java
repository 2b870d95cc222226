package dev.locking.redis;

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
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.DefaultNameMapper;
import org.redisson.config.NameMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lp_redis}: locks as Redis strings, changed only by the Lua scripts next to this class.
 *
 * <p>See {@link KeyLayout} for what lives where. Each operation is one script call ({@code EVALSHA}) on a
 * server that is not a cluster. In a cluster a script may only touch keys of one hash slot, so an operation
 * on keys of several slots makes one call per slot: {@link #tryAcquire} takes the slots one after another in
 * the order of their smallest key and, when a later slot conflicts, rolls the earlier ones back; and the
 * owner index, which lives in its own slot, is kept by a separate call.
 *
 * <p>Thread safety: the provider keeps no lock state in the JVM; everything is in Redis and every change is
 * one atomic script. The only shared JVM state is the client ({@link RedisConnection}) and the waiters
 * ({@link ReleaseWaiters}), each guarded on its own.
 */
final class RedisLockingProvider implements LockingProvider {
    private static final Logger log = LoggerFactory.getLogger(RedisLockingProvider.class);

    /** The longest a waiter sleeps before it looks again, so that a release nobody announced (a lease that ran
     * out, a key deleted by hand, a notification lost in a reconnect) still frees it soon. */
    static final Duration MAX_WAIT_SLICE = Duration.ofSeconds(1);
    /** How much longer than a waiter's sleep its "someone waits" mark lasts (the reply's way back, say). */
    static final Duration MARK_SLACK = Duration.ofSeconds(1);
    /** How long a key's last fencing token is kept after its lock ended. */
    static final Duration TOKEN_GRACE = KeyLayout.TOKEN_GRACE;
    /** Keys per script call when releasing many locks. */
    static final int BATCH = 500;
    private static final Long FREE = -2L;
    private static final long WAS_FREE = -3L;
    /** The positions of a call's only key. */
    private static final List<Integer> FIRST = List.of(0);

    private final String id;
    private final KeyLayout layout;
    private final boolean cluster;
    private final RedisConnection connection;
    private final ReleaseWaiters waiters;
    private final LockingClock clock;
    private final Duration maxWaitSlice;
    /** The scripts that publish releases, with this provider's channel and prefix length written in. */
    private final LuaScript releaseScript;
    private final LuaScript purgeScript;
    private final LuaScript undoScript;

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
        this.waiters = new ReleaseWaiters(connection, layout);
        this.clock = LockingClock.SYSTEM;
        Published published = Published.of(id, layout, borrowed);
        this.releaseScript = LuaScript.forChannel("release", published.channel(), published.prefixBytes());
        this.purgeScript = LuaScript.forChannel("purge", published.channel(), published.prefixBytes());
        this.undoScript = LuaScript.forChannel("undo", published.channel(), published.prefixBytes());
    }

    /**
     * The channel the release scripts publish on and the length of the prefix they cut off a lock key, as
     * Redis sees them. An application's client may have a {@link NameMapper}, which maps the keys a script
     * gets and the channel a subscription listens on: the scripts then publish on the channel as the topic
     * names it, and cut the mapped prefix off the mapped lock key, so a waiter finds the lock it waits for.
     * That needs a mapper that only puts something before the names (a tenant prefix, its common use); with
     * another, a release message cannot name the lock, waiters wake on their re-check instead (within a
     * second), and this says so once in the log.
     */
    record Published(String channel, int prefixBytes) {
        static Published of(String id, KeyLayout layout, @Nullable RedissonClient client) {
            Published plain = new Published(layout.channel(), layout.prefixBytes());
            NameMapper names = client == null ? null : client.getConfig().getNameMapper();
            if (client == null || names == null || names.getClass() == DefaultNameMapper.class) {
                return plain;
            }
            String channel = client.getTopic(layout.channel(), StringCodec.INSTANCE).getChannelNames().get(0);
            String before = mappedPrefix(names, layout, "a");
            if (before == null || !before.equals(mappedPrefix(names, layout, "b"))) {
                log.warn("{}: the client's NameMapper changes more than the start of a key ({} becomes {}), so"
                        + " release messages cannot name the lock; waiters of other processes notice releases on"
                        + " their re-check, within a second", id, layout.lockKey("a"), names.map(layout.lockKey("a")));
                return new Published(channel, layout.prefixBytes());
            }
            return new Published(channel, before.getBytes(StandardCharsets.UTF_8).length);
        }

        /** What the mapper puts in place of the prefix of a lock key, or null if it changes more. */
        private static @Nullable String mappedPrefix(NameMapper names, KeyLayout layout, String probe) {
            String key = layout.lockKey(probe);
            String tail = key.substring(layout.prefix().length());
            String mapped = names.map(key);
            return mapped.endsWith(tail) ? mapped.substring(0, mapped.length() - tail.length()) : null;
        }
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

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        checkOpen();
        String owner = ownerId == null ? "" : ownerId;
        long leaseMillis = lease == null ? 0 : Leases.toMillis(lease);
        Instant sentAt = clock.wallTime();
        List<Group> groups = groups(keys);
        @Nullable String index = ownerId != null && !cluster ? layout.ownerIndexKey(ownerId) : null;

        long[] tokens = new long[keys.size()];
        List<Taken> taken = new ArrayList<>(groups.size());
        long minTtl = -1;
        for (int g = 0; g < groups.size(); g++) {
            Group group = groups.get(g);
            long groupSent = System.nanoTime();
            Object answer;
            try {
                answer = connection.await(acquire(group, owner, leaseMillis, index), "tryAcquire");
            } catch (RuntimeException e) {
                undoAfterFailure(taken, owner, leaseMillis, e);
                throw e;
            }
            if (answer instanceof Long token) {
                // One key, and it was free: the script sent only its token.
                long ttl = leaseMillis > 0 ? leaseMillis : -1;
                if (ttl >= 0 && (minTtl < 0 || ttl < minTtl)) {
                    minTtl = ttl;
                }
                tokens[group.positions.get(0)] = token;
                taken.add(new Taken(group, new long[] {token}, new long[] {WAS_FREE}, groupSent));
                continue;
            }
            List<Object> reply = list(answer);
            if (number(reply, 0) == 0) {
                int conflict = group.positions.get((int) number(reply, 1) - 1);
                undo(taken, owner, leaseMillis);
                String key = keys.get(firstConflict(keys, groups.subList(g + 1, groups.size()), conflict, owner));
                log.debug("{} did not acquire {}: \"{}\" is held", id, keys, key);
                return new AcquireResult.Conflict(key);
            }
            long ttl = number(reply, 1);
            if (ttl >= 0 && (minTtl < 0 || ttl < minTtl)) {
                minTtl = ttl;
            }
            int n = group.positions.size();
            long[] prior = new long[n];
            long[] groupTokens = new long[n];
            for (int i = 0; i < n; i++) {
                groupTokens[i] = number(reply, 2 + i);
                prior[i] = number(reply, 2 + n + i);
                tokens[group.positions.get(i)] = groupTokens[i];
            }
            taken.add(new Taken(group, groupTokens, prior, groupSent));
        }
        if (ownerId != null && cluster) {
            try {
                connection.await(index("add", layout.ownerIndexKey(ownerId), leaseMillis, lockKeys(keys)),
                        "tryAcquire");
            } catch (RuntimeException e) {
                undoAfterFailure(taken, owner, leaseMillis, e);
                throw e;
            }
        }
        Map<String, Long> byKey;
        if (keys.size() == 1) {
            byKey = Map.of(keys.get(0), tokens[0]);
        } else {
            byKey = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                byKey.put(keys.get(i), tokens[i]);
            }
        }
        Instant expiresAt = minTtl >= 0 ? sentAt.plusMillis(minTtl) : null;
        if (log.isDebugEnabled()) {
            log.debug("{} acquired {} for {} until {} (tokens {})", id, keys, ownerLabel(ownerId),
                    expiresAt == null ? "released" : expiresAt, byKey);
        }
        return new AcquireResult.Acquired(byKey, expiresAt);
    }

    /** Runs acquire.lua for one group; its answer is an array, or for one free key just its token. */
    private CompletableFuture<Object> acquire(Group group, String owner, long leaseMillis, @Nullable String index) {
        int n = group.size();
        Object[] scriptKeys = new Object[index != null ? 2 * n + 1 : 2 * n];
        for (int i = 0; i < n; i++) {
            String lockKey = layout.lockKey(group.keys.get(i));
            scriptKeys[i] = lockKey;
            scriptKeys[n + i] = KeyLayout.fenceKeyOf(lockKey);
        }
        if (index != null) {
            scriptKeys[2 * n] = index;
        }
        // The script counts the keys itself (n lock keys, n token keys, maybe the index).
        return connection.evalListOrLong(LuaScript.ACQUIRE, Arrays.asList(scriptKeys), owner,
                Long.toString(leaseMillis));
    }

    /**
     * Puts back what the slots taken so far changed: a lock that was free is deleted (if it still holds this
     * owner and token), a re-entered lock gets its old expiry back.
     */
    private void undo(List<Taken> taken, String owner, long leaseMillis) {
        if (taken.isEmpty()) {
            return;
        }
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (int t = taken.size() - 1; t >= 0; t--) {
            Taken part = taken.get(t);
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - part.sentNanos);
            List<Object> lockKeys = new ArrayList<>();
            List<Object> fenceKeys = new ArrayList<>();
            List<String> tokens = new ArrayList<>();
            List<String> restore = new ArrayList<>();
            for (int i = 0; i < part.group.size(); i++) {
                String key = part.group.keys.get(i);
                long prior = part.prior[i];
                if (prior != WAS_FREE && leaseMillis == 0) {
                    continue; // re-entered without a lease: nothing changed
                }
                lockKeys.add(layout.lockKey(key));
                fenceKeys.add(layout.fenceKey(key));
                tokens.add(Long.toString(part.tokens[i]));
                restore.add(Long.toString(prior < 0 ? prior : Math.max(1, prior - elapsedMillis)));
            }
            if (lockKeys.isEmpty()) {
                continue;
            }
            List<Object> scriptKeys = new ArrayList<>(lockKeys);
            scriptKeys.addAll(fenceKeys);
            List<Object> args = new ArrayList<>();
            args.add(owner);
            args.add(Integer.toString(lockKeys.size()));
            args.addAll(tokens);
            args.addAll(restore);
            futures.add(connection.evalLong(undoScript, scriptKeys, args.toArray()));
        }
        for (CompletableFuture<Long> future : futures) {
            connection.await(future, "tryAcquire (rollback)");
        }
    }

    /** Rolls back after a failed call of a multi-slot acquire, as far as Redis still answers. */
    private void undoAfterFailure(List<Taken> taken, String owner, long leaseMillis, RuntimeException failure) {
        try {
            undo(taken, owner, leaseMillis);
        } catch (RuntimeException e) {
            failure.addSuppressed(e); // what stays locked lapses with its lease
        }
    }

    /**
     * In a cluster a later slot may hold a conflicting key that sorts before the one found: look at the keys
     * before it in the slots not tried yet, so the reported key is the first conflicting one.
     */
    private int firstConflict(List<String> keys, List<Group> untried, int found, String owner) {
        int first = found;
        List<Group> candidates = new ArrayList<>();
        for (Group group : untried) {
            Group before = group.before(found, keys);
            if (before != null) {
                candidates.add(before);
            }
        }
        if (candidates.isEmpty()) {
            return first;
        }
        List<CompletableFuture<List<Object>>> futures = new ArrayList<>();
        for (Group group : candidates) {
            futures.add(peek(group.keys, false));
        }
        for (int g = 0; g < candidates.size(); g++) {
            Group group = candidates.get(g);
            List<Object> reply = connection.await(futures.get(g), "tryAcquire");
            for (int i = 0; i < group.size(); i++) {
                Object value = reply.get(3 * i);
                boolean conflicts = value != null && (owner.isEmpty() || !owner.equals(value));
                if (conflicts && group.positions.get(i) < first) {
                    first = group.positions.get(i);
                }
            }
        }
        return first;
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        checkOpen();
        long leaseMillis = Leases.toMillis(lease);
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        @Nullable String index = cluster ? null : layout.ownerIndexKey(ownerId);
        for (Group group : groups(keys)) {
            List<Object> scriptKeys = lockKeys(group.keys);
            for (int i = 0; i < group.size(); i++) {
                scriptKeys.add(KeyLayout.fenceKeyOf((String) scriptKeys.get(i)));
            }
            if (index != null) {
                scriptKeys.add(index);
            }
            futures.add(connection.evalLong(LuaScript.EXTEND, scriptKeys, ownerId, Long.toString(leaseMillis),
                    Integer.toString(group.size())));
        }
        if (cluster) {
            futures.add(index("add", layout.ownerIndexKey(ownerId), leaseMillis, lockKeys(keys))
                    .thenApply(ignored -> 1L));
        }
        boolean all = true;
        for (CompletableFuture<Long> future : futures) {
            all &= connection.await(future, "extend") == 1L;
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
        List<Group> groups = groups(keys);
        List<CompletableFuture<Long>> futures = new ArrayList<>(groups.size());
        for (Group group : groups) {
            futures.add(release(lockKeys(group.keys), owner, index, true));
        }
        boolean all = true;
        for (CompletableFuture<Long> future : futures) {
            all &= connection.await(future, "release") == 1L;
        }
        if (ownerId != null && cluster) {
            // After the release none of these keys is the owner's, released or not.
            connection.await(index("remove", layout.ownerIndexKey(ownerId), 0, lockKeys(keys)), "release");
        }
        if (log.isDebugEnabled()) {
            log.debug("{} released {} for {}: {}", id, keys, ownerLabel(ownerId), all ? "all" : "not all");
        }
        return all;
    }

    /**
     * Runs release.lua on lock keys, with their waiter marks, their token keys and, when given, the owner's
     * index. {@code strict} is {@code release}: anonymous locks go too, and foreign data at a lock key fails the
     * call; otherwise ({@code releaseAll(owner)}) only the owner's locks go and foreign data is passed over.
     */
    private CompletableFuture<Long> release(List<Object> lockKeys, String owner, @Nullable String index,
            boolean strict) {
        int n = lockKeys.size();
        List<Object> scriptKeys = new ArrayList<>(3 * n + 1);
        scriptKeys.addAll(lockKeys);
        for (Object lockKey : lockKeys) {
            scriptKeys.add(KeyLayout.waitersKeyOf((String) lockKey));
        }
        for (Object lockKey : lockKeys) {
            scriptKeys.add(KeyLayout.fenceKeyOf((String) lockKey));
        }
        if (index != null) {
            scriptKeys.add(index);
        }
        return connection.evalLong(releaseScript, scriptKeys, owner, Integer.toString(n), strict ? "1" : "0");
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        checkOpen();
        if (ownerId != null) {
            releaseAllOf(ownerId);
        } else {
            purge();
        }
    }

    /** Releases what the owner index lists, checking each lock's owner first. */
    private void releaseAllOf(String ownerId) {
        String index = layout.ownerIndexKey(ownerId);
        List<Object> members = connection.await(
                connection.evalList(LuaScript.INDEX, List.of(index), "members", "0"), "releaseAll");
        if (members.isEmpty()) {
            if (log.isDebugEnabled()) {
                log.debug("{} released all locks of {}: none", id, ownerLabel(ownerId));
            }
            return;
        }
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (List<Object> batch : bySlot(members)) {
            futures.add(release(batch, ownerId, cluster ? null : index, false));
        }
        for (CompletableFuture<Long> future : futures) {
            connection.await(future, "releaseAll");
        }
        if (cluster) {
            for (int from = 0; from < members.size(); from += BATCH) {
                List<Object> batch = members.subList(from, Math.min(members.size(), from + BATCH));
                connection.await(index("remove", index, 0, batch), "releaseAll");
            }
        }
        if (log.isDebugEnabled()) {
            log.debug("{} released all locks of {} ({} listed)", id, ownerLabel(ownerId), members.size());
        }
    }

    /**
     * Deletes every lock key under the prefix, found with {@code SCAN MATCH}; their tokens expire a little later,
     * owner indexes with their leases (or at the owner's next release). Keys of that shape that hold another type
     * than a lock are left alone and logged.
     */
    private void purge() {
        RedissonClient client = connection.client();
        List<Object> batch = new ArrayList<>(BATCH);
        long deleted = 0;
        try (Stream<String> found = client.getKeys().getKeysStream(
                KeysScanOptions.defaults().pattern(layout.scanPattern()).chunkSize(BATCH))) {
            Iterator<String> it = found.iterator();
            while (it.hasNext()) {
                batch.add(it.next());
                if (batch.size() == BATCH) {
                    deleted += purge(batch);
                    batch.clear();
                }
            }
        } catch (RuntimeException e) {
            throw connection.failure(e, "releaseAll");
        }
        deleted += purge(batch);
        log.debug("{} released all locks under {} ({} deleted)", id, layout.prefix(), deleted);
    }

    private long purge(List<Object> lockKeys) {
        if (lockKeys.isEmpty()) {
            return 0;
        }
        List<List<Object>> groups = bySlot(lockKeys);
        List<CompletableFuture<List<Object>>> futures = new ArrayList<>();
        for (List<Object> group : groups) {
            List<Object> scriptKeys = new ArrayList<>(group);
            for (Object lockKey : group) {
                scriptKeys.add(KeyLayout.fenceKeyOf((String) lockKey));
            }
            futures.add(connection.evalList(purgeScript, scriptKeys));
        }
        long deleted = 0;
        Map<String, List<Object>> byOwner = new LinkedHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            List<Object> group = groups.get(g);
            List<Object> reply = connection.await(futures.get(g), "releaseAll");
            deleted += number(reply, 0);
            int skipped = (int) number(reply, 1);
            for (int i = 2; i < 2 + skipped; i++) {
                log.warn("{}: releaseAll left {} alone: it holds data of another type than a lock", id,
                        layout.describe(group.get((int) number(reply, i) - 1).toString()));
            }
            for (int i = 2 + skipped; i + 1 < reply.size(); i += 2) {
                byOwner.computeIfAbsent(String.valueOf(reply.get(i + 1)), o -> new ArrayList<>())
                        .add(group.get((int) number(reply, i) - 1));
            }
        }
        // The owners' indexes must not keep listing what is gone, or an index of locks without lease would stay.
        List<CompletableFuture<List<Object>>> removals = new ArrayList<>(byOwner.size());
        for (Map.Entry<String, List<Object>> owner : byOwner.entrySet()) {
            removals.add(index("remove", layout.ownerIndexKey(owner.getKey()), 0, owner.getValue()));
        }
        for (CompletableFuture<List<Object>> removal : removals) {
            try {
                connection.await(removal, "releaseAll");
            } catch (LockingException e) {
                if (e instanceof ProviderUnavailableException) {
                    throw e;
                }
                log.warn("{}: releaseAll could not update an owner's index: {}", id, e.getMessage());
            }
        }
        return deleted;
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        checkOpen();
        Instant sentAt = clock.wallTime();
        List<Object> reply = connection.await(peek(List.of(key), true), "inspect");
        Object value = reply.get(0);
        if (value == null) {
            return Optional.empty();
        }
        String owner = value.toString();
        long pttl = number(reply, 1);
        Instant expiresAt = pttl >= 0 ? sentAt.plusMillis(pttl) : null;
        return Optional.of(new LockInfo(key, owner.isEmpty() ? null : owner, expiresAt, number(reply, 2)));
    }

    private CompletableFuture<List<Object>> peek(List<String> keys, boolean withTokens) {
        List<Object> scriptKeys = lockKeys(keys);
        if (withTokens) {
            for (String key : keys) {
                scriptKeys.add(layout.fenceKey(key));
            }
        }
        return connection.evalList(LuaScript.PEEK, scriptKeys, Integer.toString(keys.size()));
    }

    /**
     * Registers as a waiter for the keys, then looks at them once: if none is held it returns at once;
     * otherwise it sleeps until a release of one of them wakes it, or the first lease among them runs
     * out, or {@link #MAX_WAIT_SLICE}, or {@code maxWait}, whichever comes first. The look also marks the
     * held keys as waited for (wait.lua), for the length of the sleep plus {@link #MARK_SLACK}: a release
     * announces only locks with such a mark, so releases nobody waits for cost no message to any process. A
     * release wakes the local waiter of the key that registered first (see {@link ReleaseWaiters}); the caller
     * is expected to try to take the keys after a normal return, and a waiter that leaves by an exception
     * after being woken passes the wake-up on.
     */
    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        checkOpen();
        long start = System.nanoTime();
        waiters.subscribe();
        List<String> lockKeys = new ArrayList<>(keys.size());
        for (String key : keys) {
            lockKeys.add(layout.lockKey(key));
        }
        ReleaseWaiters.Waiter waiter = waiters.register(lockKeys);
        boolean normal = false;
        try {
            long slice = Math.min(maxWait.toNanos(), maxWaitSlice.toNanos());
            // The marks wait.lua sets must outlive this sleep, which starts when its reply is back.
            String markMillis = Long.toString(TimeUnit.NANOSECONDS.toMillis(slice) + MARK_SLACK.toMillis());
            List<Group> groups = groups(keys);
            List<CompletableFuture<List<Object>>> futures = new ArrayList<>(groups.size());
            for (Group group : groups) {
                List<Object> scriptKeys = lockKeys(group.keys);
                for (int i = 0; i < group.size(); i++) {
                    scriptKeys.add(KeyLayout.waitersKeyOf((String) scriptKeys.get(i)));
                }
                futures.add(connection.evalList(LuaScript.WAIT, scriptKeys, markMillis));
            }
            boolean held = false;
            for (CompletableFuture<List<Object>> future : futures) {
                List<Object> reply = connection.awaitInterruptibly(future, "awaitRelease");
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
            if (held) {
                long remaining = Math.min(slice, maxWait.toNanos() - (System.nanoTime() - start));
                if (remaining > 0 && !connection.isClosed()) {
                    waiter.await(remaining);
                }
            }
            normal = !connection.isClosed();
        } finally {
            waiters.unregister(waiter, lockKeys, !normal);
        }
    }

    @Override
    public void close() {
        if (connection.isClosed()) {
            return;
        }
        waiters.close();
        connection.close();
    }

    private CompletableFuture<List<Object>> index(String operation, String index, long leaseMillis,
            List<Object> lockKeys) {
        List<Object> args = new ArrayList<>(lockKeys.size() + 2);
        args.add(operation);
        args.add(Long.toString(leaseMillis));
        args.addAll(lockKeys);
        return connection.evalList(LuaScript.INDEX, List.of(index), args.toArray());
    }

    private void checkOpen() {
        if (connection.isClosed()) {
            throw new IllegalStateException(id + " is closed");
        }
    }

    private List<Object> lockKeys(List<String> keys) {
        List<Object> lockKeys = new ArrayList<>(keys.size() + 1);
        for (String key : keys) {
            lockKeys.add(layout.lockKey(key));
        }
        return lockKeys;
    }

    /** The keys of one call by hash slot (one group when the server is not a cluster), in key order. */
    private List<Group> groups(List<String> keys) {
        if (keys.size() == 1) {
            return List.of(new Group(keys, FIRST));
        }
        if (!cluster) {
            List<Integer> positions = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                positions.add(i);
            }
            return List.of(new Group(keys, positions));
        }
        Map<Integer, Group> bySlot = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            bySlot.computeIfAbsent(KeyLayout.slot(layout.lockKey(key)), s -> new Group(new ArrayList<>(),
                    new ArrayList<>())).add(key, i);
        }
        return new ArrayList<>(bySlot.values());
    }

    /** Redis keys cut into script calls: by slot in a cluster, and at most {@link #BATCH} per call. */
    private List<List<Object>> bySlot(List<Object> redisKeys) {
        Map<Integer, List<Object>> groups = new LinkedHashMap<>();
        for (Object key : redisKeys) {
            int slot = cluster ? KeyLayout.slot(key.toString()) : 0;
            groups.computeIfAbsent(slot, s -> new ArrayList<>()).add(key);
        }
        List<List<Object>> batches = new ArrayList<>();
        for (List<Object> group : groups.values()) {
            for (int from = 0; from < group.size(); from += BATCH) {
                batches.add(group.subList(from, Math.min(group.size(), from + BATCH)));
            }
        }
        return batches;
    }

    @SuppressWarnings("unchecked") // a script's array reply: Redisson decodes it into a List of Objects
    private static List<Object> list(Object answer) {
        if (answer instanceof List<?>) {
            return (List<Object>) answer;
        }
        throw new IllegalStateException("unexpected reply from a lock script: " + answer);
    }

    private static long number(List<Object> reply, int index) {
        Object value = reply.get(index);
        if (value instanceof Number number) {
            return number.longValue();
        }
        throw new IllegalStateException("unexpected reply from a lock script: " + reply);
    }

    private static String ownerLabel(@Nullable String ownerId) {
        return ownerId == null ? "(anonymous)" : "owner \"" + ownerId + "\"";
    }

    /** Keys of one call that share a hash slot, with their positions in the call's sorted key list. */
    private static final class Group {
        final List<String> keys;
        final List<Integer> positions;

        Group(List<String> keys, List<Integer> positions) {
            this.keys = keys;
            this.positions = positions;
        }

        void add(String key, int position) {
            keys.add(key);
            positions.add(position);
        }

        int size() {
            return keys.size();
        }

        /** The part of this group that sorts before the key at {@code position}, or null if none does. */
        @Nullable Group before(int position, List<String> all) {
            List<String> k = new ArrayList<>();
            List<Integer> p = new ArrayList<>();
            for (int i = 0; i < positions.size(); i++) {
                if (positions.get(i) < position) {
                    k.add(all.get(positions.get(i)));
                    p.add(positions.get(i));
                }
            }
            return k.isEmpty() ? null : new Group(k, p);
        }
    }

    /** A slot taken by {@link #tryAcquire}, with what is needed to roll it back. */
    private static final class Taken {
        final Group group;
        final long[] tokens;
        final long[] prior;
        final long sentNanos;

        Taken(Group group, long[] tokens, long[] prior, long sentNanos) {
            this.group = group;
            this.tokens = tokens;
            this.prior = prior;
            this.sentNanos = sentNanos;
        }
    }
}
