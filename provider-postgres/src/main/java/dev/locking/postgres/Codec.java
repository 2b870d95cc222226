package dev.locking.postgres;

import dev.locking.api.LockingException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * How strings are stored: keys and owners as the UTF-8 bytes of the string ({@code bytea}, since a key may hold
 * NUL, which {@code text} cannot), so every string the core accepts (well-formed UTF-16) is kept exactly; and how
 * NOTIFY payloads name them (hex of those bytes, or their MD5, which PostgreSQL computes the same way).
 *
 * <p>Concurrency: stateless.
 */
final class Codec {
    private static final HexFormat HEX = HexFormat.of();

    private Codec() {}

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[][] utf8(List<String> keys) {
        byte[][] out = new byte[keys.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = utf8(keys.get(i));
        }
        return out;
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    static byte[] unhex(String hex) {
        return HEX.parseHex(hex);
    }

    /** The MD5 of the string's UTF-8 bytes, in lowercase hex, as PostgreSQL's {@code md5(bytea)} answers. */
    static String md5(String s) {
        return md5(utf8(s));
    }

    static String md5(byte[] bytes) {
        try {
            return hex(MessageDigest.getInstance("MD5").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is missing from this JVM", e);
        }
    }

    /**
     * A stored owner back as a string; bytes that are not UTF-8 were not written by this provider.
     *
     * @throws LockingException naming the key, if the bytes are not UTF-8
     */
    static String owner(byte[] bytes, String key, String providerId) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new LockingException(providerId + ": the lock of key \"" + key + "\" holds an owner that is not"
                    + " UTF-8, which this provider never writes (a row written by someone else?); nothing was changed");
        }
    }
}
