package dev.locking.postgres;

import dev.locking.spi.support.jdbc.SqlValues;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * How NOTIFY payloads name keys and owners: the hex of their stored UTF-8 bytes ({@link SqlValues#bytes}), or
 * their MD5, which PostgreSQL's {@code md5(bytea)} computes the same way.
 *
 * <p>Concurrency: stateless.
 */
final class Codec {
    private static final HexFormat HEX = HexFormat.of();

    private Codec() {}

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    static byte[] unhex(String hex) {
        return HEX.parseHex(hex);
    }

    /** The MD5 of the string's UTF-8 bytes, in lowercase hex, as PostgreSQL's {@code md5(bytea)} answers. */
    static String md5(String s) {
        try {
            return hex(MessageDigest.getInstance("MD5").digest(SqlValues.bytes(s)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is missing from this JVM", e);
        }
    }
}
