package dev.locking.spi.support.jdbc;

import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * How a JDBC provider binds keys and owners and reads its statements' replies.
 *
 * <p>Keys and owners are stored as the UTF-8 bytes of the string, in a binary column ({@code bytea},
 * {@code VARBINARY}, {@code RAW}): the core lets a key hold NUL, which many text types cannot hold, and every
 * string it accepts is well-formed UTF-16, so the bytes give it back exactly and two strings never share a row.
 * Bytes that are not UTF-8 were written by someone else: {@link #owner} refuses them with a clear message.
 *
 * <p>Expiries: the database computes what is left of a lease on its own clock and answers milliseconds;
 * {@link #expiry} turns them into an instant on this JVM's clock, counted from when the statement was sent, so
 * the reported expiry is early, never late.
 *
 * <p>Concurrency: stateless.
 *
 * @since 0.2.0
 */
public final class SqlValues {

    private SqlValues() {}

    /**
     * The string as stored.
     *
     * @param s a key or owner
     * @return its UTF-8 bytes
     */
    public static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The strings as stored, for an array parameter ({@link java.sql.Connection#createArrayOf}).
     *
     * @param keys keys
     * @return their UTF-8 bytes, in order
     */
    public static byte[][] bytes(List<String> keys) {
        byte[][] out = new byte[keys.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = bytes(keys.get(i));
        }
        return out;
    }

    /**
     * Binds an owner, or SQL NULL for an anonymous lock.
     *
     * @param ps    the statement
     * @param index the parameter's index
     * @param owner the owner, or {@code null}
     * @throws SQLException whatever the driver throws
     */
    public static void setOwner(PreparedStatement ps, int index, @Nullable String owner) throws SQLException {
        if (owner == null) {
            ps.setNull(index, Types.BINARY);
        } else {
            ps.setBytes(index, bytes(owner));
        }
    }

    /**
     * A stored owner back as a string.
     *
     * @param bytes      the stored bytes
     * @param key        the key whose row held them, for the message
     * @param providerId the provider's id, for the message
     * @return the owner
     * @throws LockingException naming the key, if the bytes are not UTF-8 (a row this provider never writes)
     */
    public static String owner(byte[] bytes, String key, String providerId) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new LockingException(providerId + ": the lock of key \"" + key + "\" holds an owner that is not"
                    + " UTF-8, which this provider never writes (a row written by someone else?); nothing was changed");
        }
    }

    /**
     * Moves to the first row and reads its first column as an int.
     *
     * @param rs a result with at least one row
     * @return the value (0 for NULL)
     * @throws SQLException whatever the driver throws, or if there is no row
     */
    public static int firstInt(ResultSet rs) throws SQLException {
        if (!rs.next()) {
            throw new SQLException("the statement answered no row");
        }
        return rs.getInt(1);
    }

    /**
     * A long column of the current row, or a stand-in for NULL.
     *
     * @param rs     the result, on a row
     * @param column the column's index
     * @param ifNull what NULL stands for
     * @return the value, or {@code ifNull}
     * @throws SQLException whatever the driver throws
     */
    public static long longOr(ResultSet rs, int column, long ifNull) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? ifNull : value;
    }

    /**
     * An expiry from the milliseconds left that a column reports.
     *
     * @param sentAt when the statement was sent, on this JVM's wall clock
     * @param rs     the result, on a row
     * @param column the column's index; NULL means never
     * @return {@code sentAt} plus the milliseconds left, or {@code null} for never
     * @throws SQLException whatever the driver throws
     */
    public static @Nullable Instant expiry(Instant sentAt, ResultSet rs, int column) throws SQLException {
        long left = rs.getLong(column);
        return rs.wasNull() ? null : sentAt.plusMillis(left);
    }

    /**
     * The result of an acquire that answered one token per key, in the keys' order.
     *
     * @param keys      the keys, in the order the statement got them
     * @param tokens    their fencing tokens, in the same order
     * @param expiresAt the lease's end, or {@code null} for never
     * @return the acquired result, each key with its token
     * @throws IllegalArgumentException if there are not as many tokens as keys
     */
    public static AcquireResult.Acquired acquired(List<String> keys, Long[] tokens, @Nullable Instant expiresAt) {
        long[] unboxed = new long[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            unboxed[i] = tokens[i];
        }
        return AcquireResult.Acquired.of(keys, unboxed, expiresAt); // a JDBC bigint[] comes as Long[]
    }
}
