package dev.locking.spi.support.jdbc;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCallException;
import dev.locking.spi.support.BackendCalls;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.util.Objects;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * What a JDBC driver's failures mean for the SPI, and messages that never show a secret.
 *
 * <ul>
 *   <li>The connection could not be had or broke ({@link #isBroken}: a connection exception by type or SQLSTATE
 *       class {@code 08}, a timeout, no SQLSTATE at all, or what the provider adds for its database): the backend
 *       is unavailable, a {@link ProviderUnavailableException}; if it broke after a statement that changes locks
 *       was sent, {@link #brokenDuring} says that it may have taken effect ({@link BackendCallException}).</li>
 *   <li>SQLSTATE class {@code 28} (the login was refused): {@link ProviderUnavailableException} asking to check
 *       user and password.</li>
 *   <li>SQLSTATE {@code 42501} (insufficient privilege): a {@link LockingException} naming the operation and the
 *       provider's objects.</li>
 *   <li>Anything else the server refused: a {@link LockingException} with the SQLSTATE and the server's first
 *       line.</li>
 * </ul>
 *
 * <p>Secrets: every message is scrubbed of the password (replaced by {@code ****}), and a failure whose chain
 * shows it anywhere is dropped as a cause ({@link #safeCause}), so neither a log nor a stack trace carries it.
 * Messages name the server by a description the provider gives (host, port, database; see
 * {@link SqlNames#describeUrl}), never by its URL, which may carry credentials.
 *
 * <pre>{@code
 * SqlFailures failures = new SqlFailures("lp_mysql", "MySQL at db:3306/app", password, "table app.locks",
 *         e -> e.getErrorCode() == 1205 ? ... : null,              // database-specific meanings first, or null
 *         e -> "HY000".equals(e.getSQLState()) && e.getErrorCode() == 2013);   // more "connection lost"
 * }</pre>
 *
 * <p>Concurrency: immutable; safe for concurrent use.
 *
 * @since 0.2.0
 */
public final class SqlFailures implements BackendCalls.Translator {

    /** A database-specific meaning of a failure, looked at before the generic ones. */
    @FunctionalInterface
    public interface Special {
        /**
         * Maps a failure the provider knows, such as an error its own functions raise.
         *
         * @param failure   the driver's exception
         * @param operation the operation that failed
         * @return the exception to throw, or {@code null} to let the generic rules decide
         */
        @Nullable RuntimeException translate(SQLException failure, String operation);
    }

    private final String providerId;
    private final String server;
    private final @Nullable String secret;
    private final String objects;
    private final Special special;
    private final Predicate<SQLException> alsoBroken;

    /**
     * Creates the translation of one provider instance.
     *
     * @param providerId the provider's id, first in every message
     * @param server     the server as messages may show it (no credentials, no URL parameters)
     * @param secret     the password, scrubbed from every message; {@code null} or empty if none
     * @param objects    the provider's objects, for a "permission denied" message (such as {@code table s.locks})
     * @param special    database-specific meanings, looked at first
     * @param alsoBroken more failures that mean the connection is gone or the server cannot serve now (such as
     *                   PostgreSQL's class {@code 57P}, a server shutting down)
     */
    public SqlFailures(String providerId, String server, @Nullable String secret, String objects, Special special,
            Predicate<SQLException> alsoBroken) {
        this.providerId = Objects.requireNonNull(providerId, "providerId");
        this.server = Objects.requireNonNull(server, "server");
        this.secret = secret == null || secret.isEmpty() ? null : secret;
        this.objects = Objects.requireNonNull(objects, "objects");
        this.special = Objects.requireNonNull(special, "special");
        this.alsoBroken = Objects.requireNonNull(alsoBroken, "alsoBroken");
    }

    /**
     * The first {@link SQLException} in a failure's chain of causes.
     *
     * @param failure any failure
     * @return the SQLException, or {@code null} if there is none
     */
    public static @Nullable SQLException sqlCause(Throwable failure) {
        for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (e instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }

    /**
     * Whether the connection is gone or the server cannot serve now: a connection exception (by type, or SQLSTATE
     * class {@code 08}), a timeout ({@link SQLTimeoutException}, SQLSTATE {@code HYT00}, {@code HYT01},
     * {@code HY008}), a failure without a SQLSTATE (the driver's own I/O failures), or what the provider added.
     *
     * @param e the driver's exception
     * @return true when the statement may not have run to its end for reasons outside it
     */
    public boolean isBroken(SQLException e) {
        String state = e.getSQLState();
        return e instanceof SQLTransientConnectionException || e instanceof SQLNonTransientConnectionException
                || e instanceof SQLRecoverableException || e instanceof SQLTimeoutException || state == null
                || state.startsWith("08") || state.equals("HYT00") || state.equals("HYT01") || state.equals("HY008")
                || alsoBroken.test(e);
    }

    /**
     * The failure of a statement that changes locks whose connection broke after it was sent: it may have taken
     * effect, so the core releases what it may have taken.
     *
     * @param e         the driver's exception
     * @param operation the operation
     * @return an exception that {@linkplain BackendCallException#mayHaveTakenEffect may have taken effect}
     */
    public BackendCallException brokenDuring(SQLException e, String operation) {
        return new BackendCallException(providerId + ": the connection to " + server + " broke during " + operation
                + " (" + reason(e) + "); it may have taken effect", operation, true, safeCause(e));
    }

    /** The failures of the driver and the pool, as the SPI reports them (see the class documentation). */
    @Override
    public RuntimeException translate(Throwable failure, String operation) {
        SQLException sql = sqlCause(failure);
        if (sql != null) {
            RuntimeException known = special.translate(sql, operation);
            if (known != null) {
                return known;
            }
        }
        if (sql == null || isBroken(sql)) {
            return new ProviderUnavailableException(providerId + ": " + server + " did not complete " + operation
                    + " (" + reason(failure) + ")", safeCause(failure));
        }
        String state = sql.getSQLState();
        if (state.startsWith("28")) {
            return new ProviderUnavailableException(providerId + ": " + server + " refused the login (" + reason(sql)
                    + "; check user and password)", safeCause(sql));
        }
        if (state.equals("42501")) {
            return new LockingException(providerId + ": permission denied for " + operation + " on " + objects + " ("
                    + reason(sql) + "; the provider's documentation lists the privileges it needs)", safeCause(sql));
        }
        return new LockingException(providerId + ": " + server + " refused " + operation + " (" + reason(sql) + ")",
                safeCause(sql));
    }

    /**
     * The SQLSTATE and the first line of the message, without the secret.
     *
     * @param e a failure
     * @return {@code "SQLSTATE 42P01: relation ... does not exist"}, say
     */
    public String reason(Throwable e) {
        String state = e instanceof SQLException s ? s.getSQLState() : null;
        String message = e.getMessage();
        String line = message == null ? e.getClass().getSimpleName() : message.lines().findFirst().orElse("");
        return (state == null ? "" : "SQLSTATE " + state + ": ") + scrub(line);
    }

    /**
     * The failure as a cause, unless some message in its chain shows the secret; then none.
     *
     * @param failure a failure
     * @return the failure, or {@code null}
     */
    public @Nullable Throwable safeCause(Throwable failure) {
        if (secret == null) {
            return failure;
        }
        for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
            String message = e.getMessage();
            if (message != null && message.contains(secret)) {
                return null;
            }
        }
        return failure;
    }

    /**
     * The text with every occurrence of the secret replaced by {@code ****}.
     *
     * @param text any text
     * @return the text without the secret
     */
    public String scrub(String text) {
        return secret == null ? text : text.replace(secret, "****");
    }
}
