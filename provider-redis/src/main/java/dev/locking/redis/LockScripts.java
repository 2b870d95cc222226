package dev.locking.redis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The calls of the Lua scripts next to this class: each method lays out one script's {@code KEYS} and
 * {@code ARGV} as the script's header describes them and sends it, returning the reply's future. What a reply
 * means is the caller's business ({@link ScriptReplies} reads it).
 *
 * <p>Every call takes keys of one hash slot ({@link SlotGroup}); a key's token key and waiters' mark share
 * its slot by construction ({@link KeyLayout}).
 *
 * <p>Concurrency: immutable; the futures complete on Redisson's threads.
 */
final class LockScripts {
    private final RedisConnection connection;
    private final KeyLayout layout;
    /** The scripts that publish releases, with this provider's channel and prefix length written in. */
    private final LuaScript releaseScript;
    private final LuaScript purgeScript;
    private final LuaScript undoScript;
    private final LuaScript queueScript;
    private final LuaScript leaveScript;

    LockScripts(RedisConnection connection, KeyLayout layout, ReleaseChannel.Published published) {
        this.connection = connection;
        this.layout = layout;
        this.releaseScript = LuaScript.forChannel("release", published.channel(), published.prefixBytes());
        this.purgeScript = LuaScript.forChannel("purge", published.channel(), published.prefixBytes());
        this.undoScript = LuaScript.forChannel("undo", published.channel(), published.prefixBytes());
        this.queueScript = LuaScript.forChannel("queue", published.channel(), published.prefixBytes());
        this.leaveScript = LuaScript.forChannel("leave", published.channel(), published.prefixBytes());
    }

    /** The Redis lock keys of user keys, in a list with room for one more key. */
    List<Object> lockKeys(List<String> keys) {
        List<Object> lockKeys = new ArrayList<>(keys.size() + 1);
        for (String key : keys) {
            lockKeys.add(layout.lockKey(key));
        }
        return lockKeys;
    }

    /** Runs acquire.lua for one group; its answer is an array, or for one free key just its token. */
    CompletableFuture<Object> acquire(SlotGroup group, String owner, long leaseMillis, @Nullable String index) {
        int n = group.size();
        Object[] scriptKeys = new Object[index != null ? 4 * n + 1 : 4 * n];
        for (int i = 0; i < n; i++) {
            String lockKey = layout.lockKey(group.keys.get(i));
            scriptKeys[i] = lockKey;
            scriptKeys[n + i] = KeyLayout.fenceKeyOf(lockKey);
            scriptKeys[2 * n + 2 * i] = KeyLayout.queueKeyOf(lockKey);
            scriptKeys[2 * n + 2 * i + 1] = KeyLayout.entriesKeyOf(lockKey);
        }
        if (index != null) {
            scriptKeys[4 * n] = index;
        }
        // The script counts the keys itself (n lock keys, n token keys, n queues with their entries, maybe the
        // index).
        return connection.evalListOrLong(LuaScript.ACQUIRE, Arrays.asList(scriptKeys), owner,
                Long.toString(leaseMillis));
    }

    /** Runs extend.lua for one group: 1 when the owner held every lock and its lease was reset, else 0. */
    CompletableFuture<Long> extend(SlotGroup group, String owner, long leaseMillis, @Nullable String index) {
        List<Object> scriptKeys = withFenceKeys(lockKeys(group.keys));
        if (index != null) {
            scriptKeys.add(index);
        }
        return connection.evalLong(LuaScript.EXTEND, scriptKeys, owner, Long.toString(leaseMillis),
                Integer.toString(group.size()));
    }

    /**
     * Runs queue.lua, one waiting owner's step on one lock: {@code {1, token, PTTL, taken}} when the owner holds
     * the lock now, else {@code {0, PTTL, new}} (queued). See the script's header.
     */
    CompletableFuture<List<Object>> queue(String key, String owner, long leaseMillis, long stayMillis,
            long grantMillis, @Nullable String index) {
        return connection.evalList(queueScript, oneLockWithQueue(key, false, index), owner, Long.toString(leaseMillis),
                Long.toString(stayMillis), Long.toString(grantMillis));
    }

    /**
     * Runs leave.lua: takes the owner out of the lock's queue and, if it holds the lock, releases it (handing it
     * on). 1 when it held the lock.
     */
    CompletableFuture<Long> leave(String key, String owner, @Nullable String index) {
        return connection.evalLong(leaveScript, oneLockWithQueue(key, true, index), owner);
    }

    /**
     * Runs release.lua on lock keys, with their waiter marks, their token keys, their queues and, when given, the
     * owner's index. {@code strict} is {@code release}: anonymous locks go too, and foreign data at a lock key
     * fails the call; otherwise ({@code releaseAll(owner)}) only the owner's locks go and foreign data is passed over.
     */
    CompletableFuture<Long> release(List<Object> lockKeys, String owner, @Nullable String index, boolean strict) {
        int n = lockKeys.size();
        List<Object> scriptKeys = new ArrayList<>(5 * n + 1);
        scriptKeys.addAll(lockKeys);
        for (Object lockKey : lockKeys) {
            scriptKeys.add(KeyLayout.waitersKeyOf((String) lockKey));
        }
        for (Object lockKey : lockKeys) {
            scriptKeys.add(KeyLayout.fenceKeyOf((String) lockKey));
        }
        addQueueKeys(scriptKeys, lockKeys);
        if (index != null) {
            scriptKeys.add(index);
        }
        return connection.evalLong(releaseScript, scriptKeys, owner, Integer.toString(n), strict ? "1" : "0");
    }

    /**
     * Runs undo.lua: puts back one slot of an acquire that could not be completed. Per lock its token and what
     * to restore ({@code -3}: delete, it was free; {@code -1}: no expiry; else a PTTL in ms).
     */
    CompletableFuture<Long> undo(List<Object> lockKeys, String owner, List<String> tokens, List<String> restore) {
        List<Object> scriptKeys = withFenceKeys(new ArrayList<>(lockKeys));
        addQueueKeys(scriptKeys, lockKeys);
        List<Object> args = new ArrayList<>(2 + tokens.size() + restore.size());
        args.add(owner);
        args.add(Integer.toString(lockKeys.size()));
        args.addAll(tokens);
        args.addAll(restore);
        return connection.evalLong(undoScript, scriptKeys, args.toArray());
    }

    /**
     * Runs peek.lua: per key its value, PTTL and (with {@code withTokens}) its token, three entries each.
     */
    CompletableFuture<List<Object>> peek(List<String> keys, boolean withTokens) {
        List<Object> scriptKeys = lockKeys(keys);
        if (withTokens) {
            withFenceKeys(scriptKeys);
        }
        return connection.evalList(LuaScript.PEEK, scriptKeys, Integer.toString(keys.size()));
    }

    /** Runs wait.lua for one group: the locks' PTTLs, marking each held one as waited for {@code markMillis}. */
    CompletableFuture<List<Object>> waitFor(SlotGroup group, String markMillis) {
        List<Object> scriptKeys = lockKeys(group.keys);
        int n = group.size();
        for (int i = 0; i < n; i++) {
            scriptKeys.add(KeyLayout.waitersKeyOf((String) scriptKeys.get(i)));
        }
        return connection.evalList(LuaScript.WAIT, scriptKeys, markMillis);
    }

    /** Runs purge.lua on lock keys of one slot (see the script for its reply). */
    CompletableFuture<List<Object>> purge(List<Object> lockKeys) {
        List<Object> scriptKeys = withFenceKeys(new ArrayList<>(lockKeys));
        addQueueKeys(scriptKeys, lockKeys);
        return connection.evalList(purgeScript, scriptKeys);
    }

    /** The lock keys an owner's index lists. */
    CompletableFuture<List<Object>> indexMembers(String index) {
        return connection.evalList(LuaScript.INDEX, List.of(index), "members", "0");
    }

    /** Adds lock keys to an owner's index, which then lives at least {@code leaseMillis} (0: no expiry). */
    CompletableFuture<List<Object>> indexAdd(String index, long leaseMillis, List<Object> lockKeys) {
        return index("add", index, leaseMillis, lockKeys);
    }

    /** Takes lock keys out of an owner's index. */
    CompletableFuture<List<Object>> indexRemove(String index, List<Object> lockKeys) {
        return index("remove", index, 0, lockKeys);
    }

    private CompletableFuture<List<Object>> index(String operation, String index, long leaseMillis,
            List<Object> lockKeys) {
        List<Object> args = new ArrayList<>(lockKeys.size() + 2);
        args.add(operation);
        args.add(Long.toString(leaseMillis));
        args.addAll(lockKeys);
        return connection.evalList(LuaScript.INDEX, List.of(index), args.toArray());
    }

    /**
     * The keys of queue.lua ({@code withMark} false) or leave.lua (true): the lock, its waiters' mark (leave.lua
     * only), its token key, its queue and the queue's entries, and the owner's index when given.
     */
    private List<Object> oneLockWithQueue(String key, boolean withMark, @Nullable String index) {
        String lockKey = layout.lockKey(key);
        List<Object> scriptKeys = new ArrayList<>(6);
        scriptKeys.add(lockKey);
        if (withMark) {
            scriptKeys.add(KeyLayout.waitersKeyOf(lockKey));
        }
        scriptKeys.add(KeyLayout.fenceKeyOf(lockKey));
        scriptKeys.add(KeyLayout.queueKeyOf(lockKey));
        scriptKeys.add(KeyLayout.entriesKeyOf(lockKey));
        if (index != null) {
            scriptKeys.add(index);
        }
        return scriptKeys;
    }

    /** Appends the queue and the queue's entries of each lock key, in pairs. */
    private static void addQueueKeys(List<Object> scriptKeys, List<Object> lockKeys) {
        for (Object lockKey : lockKeys) {
            scriptKeys.add(KeyLayout.queueKeyOf((String) lockKey));
            scriptKeys.add(KeyLayout.entriesKeyOf((String) lockKey));
        }
    }

    /** Appends the token key of each lock key in the list (which holds only lock keys) and returns it. */
    private static List<Object> withFenceKeys(List<Object> lockKeys) {
        int n = lockKeys.size();
        for (int i = 0; i < n; i++) {
            lockKeys.add(KeyLayout.fenceKeyOf((String) lockKeys.get(i)));
        }
        return lockKeys;
    }
}
