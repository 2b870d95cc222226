package dev.locking.postgres;

import dev.locking.api.LockingException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
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
    /** The columns {@link #ensure} expects, table by table, with their types as format_type() spells them. */
    private static final List<String> LOCK_COLUMNS = List.of("lock_key", "bytea", "owner_id", "bytea",
            "token", "bigint", "expires_at", "timestamp with time zone", "waited_until", "timestamp with time zone");
    private static final List<String> QUEUE_COLUMNS = List.of("lock_key", "bytea", "owner_id", "bytea",
            "arrival", "bigint", "grant_ms", "bigint", "lapses_at", "timestamp with time zone");
    /** Columns later versions added: a table without them is upgraded in place (schema.sql adds them). */
    private static final List<String> ADDED_QUEUE_COLUMNS = List.of("grant_channel", "text");

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
     * Makes sure the table, the queue and the functions are there and of this version. With {@code create},
     * creates or replaces what is missing or older, under a transaction-scoped advisory lock so that several JVMs
     * starting at once do not trip over each other's DDL; without it, fails with the DDL to run.
     *
     * @throws LockingException if something is missing or of the wrong shape and cannot or may not be created
     */
    void ensure(Connection c, boolean create, String providerId) throws SQLException {
        String problem = problem(c);
        if (problem == null) {
            return;
        }
        if (!create || problem.contains(" has ")) {
            // A table of that name with other columns is somebody's data: never altered, whatever createTable says.
            throw new LockingException(providerId + ": " + problem + (create ? " (createTable leaves a table of"
                    + " another shape untouched: drop or rename it, or choose another table)" : ", and createTable is"
                    + " false") + ". The objects this provider needs, to create with this DDL:\n" + ddlScript());
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(hashtext('dev.locking.postgres:' || " + literal(locks) + "))");
            if (problem(c) != null) {
                if (!exists(c, "SELECT to_regnamespace(?) IS NOT NULL", quote(schema))) {
                    st.execute("CREATE SCHEMA IF NOT EXISTS " + quote(schema));
                }
                for (String statement : ddl) {
                    st.execute(statement);
                }
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            String state = String.valueOf(e.getSQLState());
            if (state.startsWith("42")) { // refused (permission denied, a clash with another object)
                throw new LockingException(providerId + ": could not create the objects of table " + locks + " (SQLSTATE "
                        + state + ": " + e.getMessage() + "). Run this DDL as a role that may:\n" + ddlScript(), e);
            }
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
        String left = problem(c);
        if (left != null) {
            throw new LockingException(providerId + ": " + left + " after creating it; the DDL:\n" + ddlScript());
        }
    }

    /** What is missing or wrong, or null when everything is in place. */
    private @Nullable String problem(Connection c) throws SQLException {
        String wrong = columns(c, locks, LOCK_COLUMNS, List.of());
        if (wrong == null) {
            wrong = columns(c, queue, QUEUE_COLUMNS, ADDED_QUEUE_COLUMNS);
        }
        if (wrong != null) {
            return wrong;
        }
        if (!exists(c, "SELECT to_regprocedure(?) IS NOT NULL", fn("version") + "()")) {
            return "the functions of table " + locks + " are missing";
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + fn("version") + "()")) {
            rs.next();
            int found = rs.getInt(1);
            return found == VERSION ? null
                    : "the functions of table " + locks + " are of version " + found + ", this provider needs " + VERSION;
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

    /**
     * What is wrong with a table's columns: missing ({@code "is missing"}), of another shape ({@code " has "}: never
     * altered), or of an older version without the {@code added} columns (upgraded in place); null when all is well.
     */
    private static @Nullable String columns(Connection c, String relation, List<String> expected, List<String> added)
            throws SQLException {
        Map<String, String> found = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT attname, format_type(atttypid, atttypmod)"
                + " FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped")) {
            ps.setString(1, relation);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        if (found.isEmpty()) {
            return "table " + relation + " is missing";
        }
        for (int i = 0; i < expected.size(); i += 2) {
            String column = expected.get(i);
            String type = found.get(column);
            if (!expected.get(i + 1).equals(type)) {
                return "table " + relation + " has " + (type == null ? "no column " + column
                        : "column " + column + " of type " + type + ", not " + expected.get(i + 1));
            }
        }
        for (int i = 0; i < added.size(); i += 2) {
            String type = found.get(added.get(i));
            if (type == null) {
                return "table " + relation + " is of an older version (no column " + added.get(i) + ")";
            }
            if (!added.get(i + 1).equals(type)) {
                return "table " + relation + " has column " + added.get(i) + " of type " + type + ", not "
                        + added.get(i + 1);
            }
        }
        return null;
    }

    private static List<String> render(String schema, String table, String locks, String queue, String channel) {
        String text;
        try (InputStream in = Objects.requireNonNull(Schema.class.getResourceAsStream("schema.sql"), "schema.sql")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        text = text.substring(text.indexOf("CREATE ")); // the file's header speaks of placeholders
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String p = m.group(1);
            String value = switch (p) {
                case "T" -> locks;
                case "Q" -> queue;
                case "CHANNEL" -> literal(channel);
                default -> p.startsWith("fn:") ? quote(schema) + "." + quote(table + "_" + p.substring(3))
                        : quote(table + "_" + p.substring(4));
            };
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        List<String> statements = new ArrayList<>();
        for (String part : out.toString().split("\n--//\n", -1)) {
            String statement = part.strip();
            if (!statement.isEmpty()) {
                statements.add(statement);
            }
        }
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
