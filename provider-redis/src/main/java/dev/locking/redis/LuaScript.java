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
 */
final class LuaScript {
    static final LuaScript ACQUIRE = load("acquire");
    static final LuaScript EXTEND = load("extend");
    static final LuaScript RELEASE = load("release");
    static final LuaScript PURGE = load("purge");
    static final LuaScript PEEK = load("peek");
    static final LuaScript UNDO = load("undo");
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

    private static LuaScript load(String name) {
        String resource = name + ".lua";
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource dev/locking/redis/" + resource);
            }
            return new LuaScript(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
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
