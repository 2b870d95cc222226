package dev.locking.spi.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.locking.api.LockingException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against H2, an embedded SQL database (it keeps unquoted names in upper case). */
class SchemaSetupTest {

    private static final String DDL = "CREATE TABLE LOCKS (LOCK_KEY VARBINARY(4096) PRIMARY KEY, TOKEN BIGINT)";

    private Connection c;
    private final AtomicInteger creates = new AtomicInteger();

    @BeforeEach
    void database() throws SQLException {
        c = DriverManager.getConnection("jdbc:h2:mem:" + UUID.randomUUID());
    }

    @AfterEach
    void close() throws SQLException {
        c.close();
    }

    private SchemaSetup setup(String ddl) {
        return new SchemaSetup("lp_x", "table LOCKS", ddl + ";\n", conn -> SchemaSetup.columns(conn, null, "PUBLIC",
                "LOCKS", "LOCKS", "LOCK_KEY", "BINARY VARYING", "TOKEN", "BIGINT"), (conn, st) -> {
                    creates.incrementAndGet();
                    st.execute(ddl);
                }, "SELECT 1");
    }

    private boolean exists(String table) throws SQLException {
        try (ResultSet rs = c.getMetaData().getTables(null, "PUBLIC", table, null)) {
            return rs.next();
        }
    }

    @Test
    void aMissingTable_withoutLeaveToCreate_failsWithTheDdl_andCreatesNothing() throws SQLException {
        Throwable refused = catchThrowable(() -> setup(DDL).ensure(c, false));
        assertThat(refused).isExactlyInstanceOf(LockingException.class)
                .hasMessageContaining("lp_x: table LOCKS is missing, and createTable is false")
                .hasMessageContaining(DDL);
        assertThat(exists("LOCKS")).isFalse();
        assertThat(creates).hasValue(0);
    }

    @Test
    void aMissingTable_isCreatedOnce_andTheAutocommitSettingIsKept() throws SQLException {
        setup(DDL).ensure(c, true);
        setup(DDL).ensure(c, true);
        assertThat(exists("LOCKS")).isTrue();
        assertThat(creates).hasValue(1);
        assertThat(c.getAutoCommit()).isTrue();
    }

    @Test
    void aTableOfAnotherShape_isNamed_andNeverAltered() throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE LOCKS (LOCK_KEY VARCHAR(10), NOTE VARCHAR(10))");
            st.execute("INSERT INTO LOCKS VALUES ('k', 'theirs')");
        }
        for (boolean mayCreate : new boolean[] {false, true}) {
            assertThat(catchThrowable(() -> setup(DDL).ensure(c, mayCreate))).isExactlyInstanceOf(LockingException.class)
                    .hasMessageContaining("table LOCKS has column LOCK_KEY of type CHARACTER VARYING, not BINARY VARYING")
                    .hasMessageContaining(DDL);
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT NOTE FROM LOCKS")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("theirs");
        }
        assertThat(creates).hasValue(0);
    }

    @Test
    void ddlTheDatabaseRefuses_isRolledBack_andExplainedWithTheDdl() throws SQLException {
        String bad = "CREATE TABLE LOCKS (LOCK_KEY VARBINARY(4096) PRIMARY KEY, TOKEN BIGINT); CREATE TABL oops";
        Throwable refused = catchThrowable(() -> setup(bad).ensure(c, true));
        assertThat(refused).isExactlyInstanceOf(LockingException.class)
                .hasMessageContaining("lp_x: could not create the objects of table LOCKS (SQLSTATE 42")
                .hasMessageContaining("Run this DDL as a role that may");
        assertThat(c.getAutoCommit()).isTrue();
    }

    @Test
    void theColumnCheck_matchesTheNameExactly_notAsAPattern() throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE AXB (LOCK_KEY VARBINARY(10), TOKEN BIGINT)");
        }
        assertThat(SchemaSetup.columns(c, null, "PUBLIC", "A_B", "A_B", "LOCK_KEY", "BINARY VARYING"))
                .isEqualTo(new SchemaSetup.Problem("table A_B is missing", false));
        assertThat(SchemaSetup.columns(c, null, "PUBLIC", "AXB", "AXB", "LOCK_KEY", "binary varying", "TOKEN", "BIGINT"))
                .isNull();
        assertThat(SchemaSetup.columns(c, null, "PUBLIC", "AXB", "AXB", "OWNER_ID", "BINARY VARYING"))
                .isEqualTo(new SchemaSetup.Problem("table AXB has no column OWNER_ID", true));
    }

    @Test
    void hasColumn_findsAColumnALaterVersionAdded_byItsExactName() throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE TABLE Q (LOCK_KEY VARBINARY(10), GRANT_CHANNEL VARCHAR(64))");
            st.execute("CREATE TABLE QXOLD (LOCK_KEY VARBINARY(10), GRANTXCHANNEL VARCHAR(64))");
        }
        assertThat(SchemaSetup.hasColumn(c, null, "PUBLIC", "Q", "GRANT_CHANNEL")).isTrue();
        assertThat(SchemaSetup.hasColumn(c, null, "PUBLIC", "QXOLD", "GRANT_CHANNEL")).isFalse();
        assertThat(SchemaSetup.hasColumn(c, null, "PUBLIC", "MISSING", "GRANT_CHANNEL")).isFalse();
    }
}
