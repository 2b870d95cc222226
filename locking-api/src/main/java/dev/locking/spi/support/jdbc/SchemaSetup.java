package dev.locking.spi.support.jdbc;

import dev.locking.api.LockingException;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A JDBC provider's tables and functions checked on first use, and created when missing if the user lets it
 * ({@code createTable}), or else a clear {@link LockingException} that holds the DDL to run.
 *
 * <ul>
 *   <li>A table of that name with other columns is somebody's data ({@link Problem#foreign()}): never altered,
 *       whatever the user lets; the message names the column and its type.</li>
 *   <li>Creating runs in one transaction that first takes a lock ({@code lockStatement}, such as PostgreSQL's
 *       {@code pg_advisory_xact_lock}), then looks again, so that several JVMs starting at once create the objects
 *       once and never trip over each other's DDL. A refusal (SQLSTATE class {@code 42}: no privilege, a clash
 *       with another object) becomes a message with the DDL to run as a role that may.</li>
 *   <li>{@link #columns} reads a table's columns through {@link DatabaseMetaData}, so the check works on any
 *       driver; expected types are spelled as the driver's {@code TYPE_NAME} (pgjdbc: {@code bytea},
 *       {@code int8}, {@code timestamptz}).</li>
 * </ul>
 *
 * <pre>{@code
 * SchemaSetup setup = new SchemaSetup("lp_mysql", "table app.locks", ddlScript,
 *         c -> SchemaSetup.columns(c, "app", null, "locks", "app.locks", "lock_key", "VARBINARY", "token", "BIGINT"),
 *         (c, st) -> { for (String s : ddl) st.execute(s); }, "SELECT GET_LOCK('app.locks', 10)");
 * SqlCalls sql = SqlCalls.builder(id, failures).pool(...).firstUse(c -> setup.ensure(c, createTable)).build();
 * }</pre>
 *
 * <p>Concurrency: immutable; {@link #ensure} uses only the connection it is given.
 *
 * @since 0.2.0
 */
public final class SchemaSetup {

    /**
     * What is missing or wrong.
     *
     * @param description what, for messages, such as {@code table "s"."locks" is missing}
     * @param foreign     whether it is an object of another shape, which is never altered
     */
    public record Problem(String description, boolean foreign) {
        /**
         * Checks the description.
         *
         * @param description what is wrong
         * @param foreign     whether the object is somebody else's
         */
        public Problem {
            Objects.requireNonNull(description, "description");
        }
    }

    /** Finds what is missing or wrong. */
    @FunctionalInterface
    public interface Check {
        /**
         * Looks at the database.
         *
         * @param c a connection
         * @return the first problem, or {@code null} when everything is in place
         * @throws SQLException whatever the driver throws
         */
        @Nullable Problem find(Connection c) throws SQLException;
    }

    /** Creates what is missing, inside the setup's transaction. */
    @FunctionalInterface
    public interface Create {
        /**
         * Runs the DDL.
         *
         * @param c  the connection, in a transaction
         * @param st a statement to run it with
         * @throws SQLException whatever the driver throws (the transaction is rolled back)
         */
        void run(Connection c, Statement st) throws SQLException;
    }

    private final String providerId;
    private final String objects;
    private final String ddlScript;
    private final Check check;
    private final Create create;
    private final @Nullable String lockStatement;

    /**
     * Describes a provider's objects.
     *
     * @param providerId    the provider's id, first in every message
     * @param objects       the objects, for messages, such as {@code table "s"."locks"}
     * @param ddlScript     the DDL as one script a DBA can run, quoted in messages
     * @param check         finds what is missing or wrong
     * @param create        creates what is missing
     * @param lockStatement runs first in the creating transaction, or {@code null} for none
     */
    public SchemaSetup(String providerId, String objects, String ddlScript, Check check, Create create,
            @Nullable String lockStatement) {
        this.providerId = Objects.requireNonNull(providerId, "providerId");
        this.objects = Objects.requireNonNull(objects, "objects");
        this.ddlScript = Objects.requireNonNull(ddlScript, "ddlScript");
        this.check = Objects.requireNonNull(check, "check");
        this.create = Objects.requireNonNull(create, "create");
        this.lockStatement = lockStatement;
    }

    /**
     * Makes sure everything is in place: returns if it is; with {@code mayCreate}, creates what is missing (see
     * the class documentation); otherwise fails with the DDL.
     *
     * @param c         a connection; its autocommit setting is restored
     * @param mayCreate whether the user lets the provider create objects
     * @throws LockingException if something is missing or foreign and cannot or may not be created
     * @throws SQLException     if the driver failed otherwise
     */
    public void ensure(Connection c, boolean mayCreate) throws SQLException {
        Problem problem = check.find(c);
        if (problem == null) {
            return;
        }
        if (!mayCreate || problem.foreign()) {
            throw new LockingException(providerId + ": " + problem.description() + (mayCreate ? " (createTable leaves"
                    + " a table of another shape untouched: drop or rename it, or choose another table)"
                    : ", and createTable is false") + ". The objects this provider needs, to create with this DDL:\n"
                    + ddlScript);
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            if (lockStatement != null) {
                st.execute(lockStatement);
            }
            if (check.find(c) != null) {
                create.run(c, st);
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            String state = String.valueOf(e.getSQLState());
            if (state.startsWith("42")) { // refused (permission denied, a clash with another object)
                throw new LockingException(providerId + ": could not create the objects of " + objects + " (SQLSTATE "
                        + state + ": " + e.getMessage() + "). Run this DDL as a role that may:\n" + ddlScript, e);
            }
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        Problem left = check.find(c);
        if (left != null) {
            throw new LockingException(providerId + ": " + left.description() + " after creating it; the DDL:\n"
                    + ddlScript);
        }
    }

    /**
     * Compares a table's columns with the expected ones, through {@link DatabaseMetaData#getColumns}.
     *
     * @param c        a connection
     * @param catalog  the table's catalog as the driver names it (MySQL's database), or {@code null}
     * @param schema   its schema, exactly as stored, or {@code null}
     * @param table    its name, exactly as stored
     * @param shown    the table as messages name it, such as {@code "s"."locks"}
     * @param expected column names and their types, alternating, checked in this order; a type as the driver's
     *                 {@code TYPE_NAME} spells it (case does not matter); other columns are allowed
     * @return {@code table ... is missing} (not foreign), {@code table ... has no column ...} or {@code has column
     *         ... of type ..., not ...} (foreign), or {@code null} when every column is there with its type
     * @throws SQLException whatever the driver throws
     */
    public static @Nullable Problem columns(Connection c, @Nullable String catalog, @Nullable String schema,
            String table, String shown, String... expected) throws SQLException {
        if (expected.length % 2 != 0) {
            throw new IllegalArgumentException("expected must alternate names and types");
        }
        DatabaseMetaData md = c.getMetaData();
        String escape = md.getSearchStringEscape();
        Map<String, String> found = new HashMap<>();
        try (ResultSet rs = md.getColumns(catalog, schema == null ? null : pattern(schema, escape),
                pattern(table, escape), null)) {
            while (rs.next()) {
                found.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"));
            }
        }
        if (found.isEmpty()) {
            return new Problem("table " + shown + " is missing", false);
        }
        for (int i = 0; i < expected.length; i += 2) {
            String column = expected[i];
            String type = found.get(column);
            if (!expected[i + 1].equalsIgnoreCase(type)) {
                return new Problem("table " + shown + " has " + (type == null ? "no column " + column
                        : "column " + column + " of type " + type + ", not " + expected[i + 1]), true);
            }
        }
        return null;
    }

    /**
     * Whether a table has a column, through {@link DatabaseMetaData#getColumns}: for a column a later version of a
     * provider added, so that a table of an older version is upgraded in place rather than taken for a foreign one.
     *
     * @param c       a connection
     * @param catalog the table's catalog as the driver names it, or {@code null}
     * @param schema  its schema, exactly as stored, or {@code null}
     * @param table   its name, exactly as stored
     * @param column  the column's name, exactly as stored
     * @return whether the column is there (false also when the table is missing)
     * @throws SQLException whatever the driver throws
     */
    public static boolean hasColumn(Connection c, @Nullable String catalog, @Nullable String schema, String table,
            String column) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        String escape = md.getSearchStringEscape();
        try (ResultSet rs = md.getColumns(catalog, schema == null ? null : pattern(schema, escape),
                pattern(table, escape), pattern(column, escape))) {
            return rs.next();
        }
    }

    /** A name as a metadata search pattern that matches only itself. */
    private static String pattern(String name, @Nullable String escape) {
        if (escape == null || escape.isEmpty()) {
            return name;
        }
        return name.replace(escape, escape + escape).replace("_", escape + "_").replace("%", escape + "%");
    }
}
