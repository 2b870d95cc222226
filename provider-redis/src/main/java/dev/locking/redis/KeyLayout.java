package dev.locking.redis;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * Where a provider's data lives in Redis, for one key prefix {@code P}:
 *
 * <table>
 *   <caption>Redis keys of one provider</caption>
 *   <tr><th>what</th><th>Redis key</th><th>type, lifetime</th></tr>
 *   <tr><td>lock of user key {@code K}</td><td>{@code P{e(K)}}</td>
 *       <td>string: the owner id, or the empty string for an anonymous lock; {@code PEXPIRE} = lease</td></tr>
 *   <tr><td>fencing counter of {@code K}</td><td>{@code P{e(K)}:fence}</td>
 *       <td>integer, never expires, never deleted by this library</td></tr>
 *   <tr><td>"someone waits" mark of {@code K}</td><td>{@code P{e(K)}:waiters}</td>
 *       <td>string {@code 1}; expires a second after the longest wait that set it</td></tr>
 *   <tr><td>owner index of owner {@code O}</td><td>{@code Powner:{e(O)}}</td>
 *       <td>set of lock keys; lives at least as long as the locks it lists</td></tr>
 *   <tr><td>release notifications</td><td>channel {@code Preleased}</td>
 *       <td>each message: the released locks' {@code {e(K)}} parts, one per line (only locks with a
 *       "someone waits" mark)</td></tr>
 * </table>
 *
 * <p>{@code e(s)} escapes {@code \}, <code>{</code>, <code>}</code>, CR and LF with a backslash (and writes a
 * lone surrogate as {@code \}{@code uXXXX}), so an
 * escaped key holds no brace: the braces this class adds are always the Redis Cluster hash tag. A lock
 * and its counter share the slot {@code CRC16(e(K)) mod 16384}, computed from the whole key, so braces in
 * a user key never move its lock to another slot. The prefix may not hold braces itself.
 *
 * <p>Lock keys are exactly the keys {@code P{...}} that end with the closing brace; fencing counters, marks and
 * owner indexes never match that shape, which is what {@link #scanPattern()} relies on.
 */
final class KeyLayout {
    /** The key prefix when none is configured. */
    static final String DEFAULT_PREFIX = "locking:";

    private static final String FENCE_SUFFIX = ":fence";
    private static final String WAITERS_SUFFIX = ":waiters";
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

    /** The fencing counter that belongs to a lock key. */
    static String fenceKeyOf(String lockKey) {
        return lockKey + FENCE_SUFFIX;
    }

    /** The mark that says someone waits for a lock (see {@code wait.lua}); it expires by itself. */
    static String waitersKeyOf(String lockKey) {
        return lockKey + WAITERS_SUFFIX;
    }

    String ownerIndexKey(String ownerId) {
        return prefix + "owner:{" + escape(ownerId) + '}';
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
