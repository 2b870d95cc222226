package dev.locking.postgres;

import dev.locking.api.LockingException;
import dev.locking.spi.support.jdbc.SchemaSetup;
import dev.locking.spi.support.jdbc.SqlScript;
import dev.locking.spi.support.jdbc.SqlValues;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The provider's objects in one schema: the lock table, its queue of waiting owners, the functions every
 * operation calls (their text is {@code schema.sql} next to this class), the NOTIFY channel, and the SQL the
 * provider sends. {@link #ensure} checks them on first use and creates what is missing, or explains what to run.
 *
 * <p>Concurrency: immutable.
 */
final class Schema {
    /** Bumped whenever schema.sql changes what a function does; {@link #ensure} replaces older functions. */
    static final int VERSION = 3;

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(T|Q|CHANNEL|fn:\\w+|idx:\\w+)}");
    /** The columns {@link #ensure} expects, table by table, with their types as pgjdbc's metadata spells them. */
    private static final String[] LOCK_COLUMNS = {"lock_key", "bytea", "owner_id", "bytea", "token", "int8",
        "expires_at", "timestamptz", "waited_until", "timestamptz"};
    private static final String[] QUEUE_COLUMNS = {"lock_key", "bytea", "owner_id", "bytea", "arrival", "int8",
        "grant_ms", "int8", "lapses_at", "timestamptz"};
    /** A column version 3 added to the queue: a version-2 queue is upgraded in place (schema.sql adds it). */
    private static final String ADDED_QUEUE_COLUMN = "grant_channel";

    final String schema;
    final String table;
    /** The lock table, quoted and qualified. */
    final String locks;
    /** The queue table, quoted and qualified. */
    final String queue;
    /** The table's LISTEN/NOTIFY channel (releases, and grants to entries without a channel): a plain identifier. */
    final String channel;
    private final List<String> ddl;

    final String acquire;
    final String extend;
    final String release;
    final String releaseAll;
    final String inspect;
    final String await;
    final String enqueue;
    final String leave;
    final String sweep;

    Schema(String schema, String table) {
        this.schema = schema;
        this.table = table;
        this.locks = quote(schema) + "." + quote(table);
        this.queue = quote(schema) + "." + quote(table + "_queue");
        this.channel = "lp_postgres_" + Codec.md5(schema + "." + table).substring(0, 20);
        this.ddl = render(schema, table, locks, queue, channel);
        this.acquire = "SELECT * FROM " + fn("acquire") + "(?, ?, ?)";
        this.extend = "UPDATE " + locks + " SET expires_at = clock_timestamp() + ? * interval '1 millisecond'"
                + " WHERE lock_key = ANY (?) AND owner_id = ?"
                + " AND (expires_at IS NULL OR expires_at > clock_timestamp())";
        this.release = "SELECT * FROM " + fn("release") + "(?, ?, ?)";
        this.releaseAll = "SELECT " + fn("release_all") + "(?)";
        this.inspect = "SELECT owner_id, token, " + fn("ms") + "(expires_at, clock_timestamp()) FROM " + locks
                + " WHERE lock_key = ? AND (expires_at IS NULL OR expires_at > clock_timestamp())";
        this.await = "SELECT * FROM " + fn("wait") + "(?, ?)";
        this.enqueue = "SELECT * FROM " + fn("queue") + "(?, ?, ?, ?, ?)";
        this.leave = "SELECT " + fn("leave") + "(?, ?)";
        this.sweep = "SELECT " + fn("sweep") + "(?)";
    }

    /** A function of this table, quoted and qualified: {@code "schema"."table_name"}. */
    String fn(String name) {
        return quote(schema) + "." + quote(table + "_" + name);
    }

    /** The DDL that creates everything, as one script a DBA can run. */
    String ddlScript() {
        return "CREATE SCHEMA IF NOT EXISTS " + quote(schema) + ";\n" + String.join(";\n", ddl) + ";\n";
    }

    /**
     * Makes sure the table, the queue and the functions are there and of this version (the toolkit's
     * {@link SchemaSetup}). With {@code create}, creates or replaces what is missing or older, under a
     * transaction-scoped advisory lock so that several JVMs starting at once do not trip over each other's DDL;
     * without it, fails with the DDL to run.
     *
     * @throws LockingException if something is missing or of the wrong shape and cannot or may not be created
     */
    void ensure(Connection c, boolean create, String providerId) throws SQLException {
        new SchemaSetup(providerId, "table " + locks, ddlScript(), this::problem, (conn, st) -> {
            if (!exists(conn, "SELECT to_regnamespace(?) IS NOT NULL", quote(schema))) {
                st.execute("CREATE SCHEMA IF NOT EXISTS " + quote(schema)); // needs CREATE on the database
            }
            for (String statement : ddl) {
                st.execute(statement);
            }
        }, "SELECT pg_advisory_xact_lock(hashtext('dev.locking.postgres:' || " + literal(locks) + "))").ensure(c, create);
    }

    /** What is missing or wrong, or null when everything is in place. */
    private SchemaSetup.@Nullable Problem problem(Connection c) throws SQLException {
        SchemaSetup.Problem wrong = SchemaSetup.columns(c, null, schema, table, locks, LOCK_COLUMNS);
        if (wrong == null) {
            wrong = SchemaSetup.columns(c, null, schema, table + "_queue", queue, QUEUE_COLUMNS);
        }
        if (wrong == null && !SchemaSetup.hasColumn(c, null, schema, table + "_queue", ADDED_QUEUE_COLUMN)) {
            wrong = new SchemaSetup.Problem("table " + queue + " is of an older version (no column "
                    + ADDED_QUEUE_COLUMN + ")", false);
        }
        if (wrong == null) {
            wrong = SchemaSetup.columns(c, null, schema, table + "_queue", queue, ADDED_QUEUE_COLUMN, "text");
        }
        if (wrong != null) {
            return wrong;
        }
        if (!exists(c, "SELECT to_regprocedure(?) IS NOT NULL", fn("version") + "()")) {
            return new SchemaSetup.Problem("the functions of table " + locks + " are missing", false);
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + fn("version") + "()")) {
            int found = SqlValues.firstInt(rs);
            return found == VERSION ? null : new SchemaSetup.Problem("the functions of table " + locks
                    + " are of version " + found + ", this provider needs " + VERSION, false);
        }
    }

    private static boolean exists(Connection c, String query, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(query)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private static List<String> render(String schema, String table, String locks, String queue, String channel) {
        String text = SqlScript.resource(Schema.class, "schema.sql");
        text = text.substring(text.indexOf("CREATE ")); // the file's header speaks of placeholders
        List<String> statements = new ArrayList<>(SqlScript.statements(text, PLACEHOLDER, p -> switch (p) {
            case "T" -> locks;
            case "Q" -> queue;
            case "CHANNEL" -> literal(channel);
            default -> p.startsWith("fn:") ? quote(schema) + "." + quote(table + "_" + p.substring(3))
                    : quote(table + "_" + p.substring(4));
        }, "--//"));
        statements.add("CREATE OR REPLACE FUNCTION " + quote(schema) + "." + quote(table + "_version")
                + "() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT " + VERSION + "'");
        return List.copyOf(statements);
    }

    /** Names are checked plain identifiers (see {@link PostgresSettings}), so quoting never needs escaping. */
    private static String quote(String identifier) {
        return '"' + identifier + '"';
    }

    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
