package dev.locking.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Where a provider's data lives in Redis, for one key prefix {@code P}:
 *
 * <table>
 *   <caption>Redis keys of one provider</caption>
 *   <tr><th>what</th><th>Redis key</th><th>type, lifetime</th></tr>
 *   <tr><td>lock of user key {@code K}</td><td>{@code P{e(K)}}</td>
 *       <td>string: the owner id, or the empty string for an anonymous lock; {@code PEXPIRE} = lease</td></tr>
 *   <tr><td>last fencing token of {@code K}</td><td>{@code P{e(K)}:fence}</td>
 *       <td>integer; lives as long as the lock plus {@link #LAST_TOKEN_AFTERLIFE}, then it is gone</td></tr>
 *   <tr><td>"someone waits" mark of {@code K}</td><td>{@code P{e(K)}:waiters}</td>
 *       <td>string {@code 1}; expires a second after the longest wait that set it</td></tr>
 *   <tr><td>queue of {@code K}</td><td>{@code P{e(K)}:queue}</td>
 *       <td>list of the owners waiting for the lock, in the order they came; lives as long as the longest stay
 *       in it</td></tr>
 *   <tr><td>queue entries of {@code K}</td><td>{@code P{e(K)}:entries}</td>
 *       <td>hash: owner to {@code "<lapse> <lease>"} (server time in ms, lease of a hand-off in ms); lives as
 *       long as the queue</td></tr>
 *   <tr><td>owner index of owner {@code O}</td><td>{@code P{e(O)}:owner}</td>
 *       <td>set of lock keys; lives at least as long as the locks it lists, gone when it lists none</td></tr>
 *   <tr><td>release notifications</td><td>channel {@code Preleased}</td>
 *       <td>each message: the released locks' {@code {e(K)}} parts, one per line (only locks with a
 *       "someone waits" mark); or one grant, {@code !<token> <lease ms> {e(K)}<owner>}</td></tr>
 * </table>
 *
 * <p>{@code e(s)} escapes {@code \}, <code>{</code>, <code>}</code>, CR and LF with a backslash (and writes a
 * lone surrogate as {@code \}{@code uXXXX}), so an
 * escaped key holds no brace: the braces this class adds are always the Redis Cluster hash tag. A lock
 * and its token share the slot {@code CRC16(e(K)) mod 16384}, computed from the whole key, so braces in
 * a user key never move its lock to another slot.
 *
 * <p>Two different prefixes never share a Redis key: the prefix may not hold braces, and every key of this
 * layout continues the prefix with <code>{</code>, so the prefix of any of these keys is exactly the text
 * before its first brace. (The earlier layout had the owner index at {@code Powner:{e(O)}}, which was the lock
 * of key {@code O} under the prefix {@code Powner:}.) Within one prefix the part after the closing brace
 * tells the kinds apart, and lock keys are exactly the keys {@code P{...}} that end with the closing brace,
 * which is what {@link #scanPattern()} relies on.
 *
 * <p>Concurrency: immutable.
 */
final class KeyLayout {
    /** The key prefix when none is configured. */
    static final String DEFAULT_PREFIX = "locking:";

    /**
     * How long a key's last fencing token is kept after its lock ended (released or lapsed): a lock taken again
     * within that time, even in the same microsecond of the server's clock, gets a higher token.
     */
    static final Duration LAST_TOKEN_AFTERLIFE = Duration.ofSeconds(5);

    private static final String FENCE_SUFFIX = ":fence";
    private static final String WAITERS_SUFFIX = ":waiters";
    private static final String OWNER_SUFFIX = ":owner";
    private static final String QUEUE_SUFFIX = ":queue";
    private static final String ENTRIES_SUFFIX = ":entries";
    private static final int SLOTS = 16384;

    private final String prefix;
    private final int prefixBytes;

    KeyLayout(String prefix) {
        if (prefix.isEmpty()) {
            throw new IllegalArgumentException("keyPrefix must not be empty");
        }
        if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
            throw new IllegalArgumentException(
                    "keyPrefix must not contain '{' or '}' (the provider places its own hash tags): " + prefix);
        }
        this.prefix = prefix;
        this.prefixBytes = prefix.getBytes(StandardCharsets.UTF_8).length;
    }

    String prefix() {
        return prefix;
    }

    /** Length of the prefix in UTF-8 bytes, which is what Lua's {@code string.sub} counts. */
    int prefixBytes() {
        return prefixBytes;
    }

    String lockKey(String key) {
        return prefix + '{' + escape(key) + '}';
    }

    String fenceKey(String key) {
        return fenceKeyOf(lockKey(key));
    }

    /** The key that keeps the last fencing token of a lock key. */
    static String fenceKeyOf(String lockKey) {
        return lockKey + FENCE_SUFFIX;
    }

    /** The mark that says someone waits for a lock (see {@code wait.lua}); it expires by itself. */
    static String waitersKeyOf(String lockKey) {
        return lockKey + WAITERS_SUFFIX;
    }

    /** The queue of owners waiting for a lock, in the order they came (a list; see {@code queue.lua}). */
    static String queueKeyOf(String lockKey) {
        return lockKey + QUEUE_SUFFIX;
    }

    /** The entries of a lock's queue: owner to its entry's lapse and lease (a hash; see {@code queue.lua}). */
    static String entriesKeyOf(String lockKey) {
        return lockKey + ENTRIES_SUFFIX;
    }

    String ownerIndexKey(String ownerId) {
        return prefix + '{' + escape(ownerId) + '}' + OWNER_SUFFIX;
    }

    /**
     * What a Redis key of this layout is, for an error message: {@code the lock of key "K" (Redis key "P{K}")},
     * and so on; just the Redis key for one that does not fit the layout.
     */
    String describe(String redisKey) {
        String quoted = "(Redis key \"" + redisKey + "\")";
        int close = redisKey.indexOf('}', prefix.length());
        if (!redisKey.startsWith(prefix + '{') || close < 0) {
            return "Redis key \"" + redisKey + '"';
        }
        String name = unescape(redisKey.substring(prefix.length() + 1, close));
        return switch (redisKey.substring(close + 1)) {
            case "" -> "the lock of key \"" + name + "\" " + quoted;
            case FENCE_SUFFIX -> "the fencing token of key \"" + name + "\" " + quoted;
            case WAITERS_SUFFIX -> "the waiters' mark of key \"" + name + "\" " + quoted;
            case OWNER_SUFFIX -> "the lock index of owner \"" + name + "\" " + quoted;
            case QUEUE_SUFFIX -> "the queue of key \"" + name + "\" " + quoted;
            case ENTRIES_SUFFIX -> "the queue entries of key \"" + name + "\" " + quoted;
            default -> "Redis key \"" + redisKey + '"';
        };
    }

    String channel() {
        return prefix + "released";
    }

    /** The lock key named by one line of a release notification (the part after the prefix). */
    String lockKeyFromNotification(String part) {
        return prefix + part;
    }

    /**
     * A {@code SCAN MATCH} pattern that matches this prefix's lock keys and nothing else of this prefix:
     * glob characters in the prefix are escaped, so a prefix such as {@code app[1]*} matches only itself.
     */
    String scanPattern() {
        StringBuilder b = new StringBuilder(prefix.length() + 8);
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\' || c == '^' || c == '-') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append("{*}").toString();
    }

    /**
     * Escapes a user key or owner id so that it holds no brace, CR or LF, and no lone surrogate (which
     * UTF-8 cannot carry); injective, so two keys never share a lock.
     */
    static String escape(String s) {
        @Nullable StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            @Nullable String replacement;
            switch (c) {
                case '\\' -> replacement = "\\\\";
                case '{' -> replacement = "\\(";
                case '}' -> replacement = "\\)";
                case '\n' -> replacement = "\\n";
                case '\r' -> replacement = "\\r";
                default -> replacement = null;
            }
            if (replacement == null && Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    if (b != null) {
                        b.append(c).append(s.charAt(i + 1));
                    }
                    i++;
                    continue;
                }
                // UTF-8 has no form for a lone surrogate (it would become '?'): spell it out.
                replacement = String.format("\\u%04x", (int) c);
            }
            if (replacement != null) {
                if (b == null) {
                    b = new StringBuilder(s.length() + 8).append(s, 0, i);
                }
                b.append(replacement);
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    /** The inverse of {@link #escape}. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                b.append(c);
                continue;
            }
            char next = s.charAt(++i);
            switch (next) {
                case '(' -> b.append('{');
                case ')' -> b.append('}');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 'u' -> {
                    int code = i + 4 < s.length() ? hex(s.substring(i + 1, i + 5)) : -1;
                    if (code >= 0) {
                        b.append((char) code);
                        i += 4;
                    } else {
                        b.append('\\').append(next);
                    }
                }
                default -> b.append(next);
            }
        }
        return b.toString();
    }

    private static int hex(String digits) {
        try {
            return Integer.parseInt(digits, 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The Redis Cluster slot of a Redis key, by the rules of {@code CLUSTER KEYSLOT}. */
    static int slot(String redisKey) {
        byte[] bytes = redisKey.getBytes(StandardCharsets.UTF_8);
        int start = 0;
        int end = bytes.length;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '{') {
                for (int j = i + 1; j < bytes.length; j++) {
                    if (bytes[j] == '}') {
                        if (j > i + 1) {
                            start = i + 1;
                            end = j;
                        }
                        break;
                    }
                }
                break;
            }
        }
        return crc16(bytes, start, end) % SLOTS;
    }

    /** CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum Redis Cluster hashes keys with. */
    static int crc16(byte[] bytes, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc ^= (bytes[i] & 0xff) << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
                crc &= 0xffff;
            }
        }
        return crc;
    }
}
