package dev.locking.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One of the provider's Lua scripts ({@code src/main/resources/dev/locking/redis/<name>.lua}) and its SHA-1,
 * the name {@code EVALSHA} calls it by. The digest is computed here, so no {@code SCRIPT LOAD} is needed
 * before the first call: a server that answers {@code NOSCRIPT} gets the script once and the call is
 * repeated (see {@link RedisConnection}).
 *
 * <p>A script cannot include another, so the checks of foreign data that the scripts share live in
 * {@code shared.lua}, whose text is put before every script's own when it is loaded (it only defines local
 * functions). Every script has {@code $LAST_TOKEN_AFTERLIFE_MS}, how long a token key outlives its lock
 * ({@link KeyLayout#LAST_TOKEN_AFTERLIFE}), written in when it is loaded. The scripts that publish releases
 * ({@code release}, {@code purge}, {@code undo}) name the channel and
 * the key prefix's length as {@code $CHANNEL} and {@code $PREFIX_BYTES}; {@link #forLayout} writes a
 * provider's values in, so these constants are not sent as arguments with every call. Each key prefix thus
 * has its own copy of those scripts (and SHA-1) in Redis.
 *
 * <p>Concurrency: immutable.
 */
final class LuaScript {
    /** The helpers every script may use (shared.lua), put before each script's own text. */
    private static final String SHARED = read("shared.lua");

    static final LuaScript ACQUIRE = load("acquire");
    static final LuaScript EXTEND = load("extend");
    static final LuaScript PEEK = load("peek");
    static final LuaScript WAIT = load("wait");
    static final LuaScript INDEX = load("index");

    private final String name;
    private final String source;
    private final String sha;

    private LuaScript(String name, String source) {
        this.name = name;
        this.source = source;
        this.sha = sha1(source);
    }

    String name() {
        return name;
    }

    String source() {
        return source;
    }

    String sha() {
        return sha;
    }

    @Override
    public String toString() {
        return name + ".lua";
    }

    /**
     * The script {@code name} with the constants of one key layout written in: {@code $CHANNEL} becomes the
     * channel as a Lua string literal, {@code $PREFIX_BYTES} the prefix's length in UTF-8 bytes.
     */
    static LuaScript forLayout(String name, KeyLayout layout) {
        return forChannel(name, layout.channel(), layout.prefixBytes());
    }

    /**
     * A script that publishes, with the channel and prefix length as Redis sees them (a client's
     * {@code NameMapper} may map both; see {@code RedisLockingProvider.Published}).
     */
    static LuaScript forChannel(String name, String channel, int prefixBytes) {
        LuaScript template = load(name);
        String source = template.source.replace("$CHANNEL", luaString(channel))
                .replace("$PREFIX_BYTES", Integer.toString(prefixBytes));
        return new LuaScript(name, source);
    }

    /**
     * A Lua string literal holding {@code s}: letters, digits and a few safe characters as they are, every
     * other UTF-8 byte as a three-digit decimal escape, so no prefix can end the literal or change the script.
     */
    static String luaString(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_'
                    || c == '-' || c == '.') {
                b.append((char) c);
            } else {
                // Always three digits: Lua reads up to three, so a digit after the escape stays a digit.
                b.append('\\').append((char) ('0' + c / 100)).append((char) ('0' + c / 10 % 10))
                        .append((char) ('0' + c % 10));
            }
        }
        return b.append('"').toString();
    }

    private static LuaScript load(String name) {
        String source = (SHARED + read(name + ".lua"))
                .replace("$LAST_TOKEN_AFTERLIFE_MS", Long.toString(KeyLayout.LAST_TOKEN_AFTERLIFE.toMillis()));
        return new LuaScript(name, source);
    }

    private static String read(String resource) {
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource dev/locking/redis/" + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dev/locking/redis/" + resource, e);
        }
    }

    private static String sha1(String source) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            return HexFormat.of().formatHex(digest.digest(source.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available", e);
        }
    }
}
