package dev.locking.spi.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCallException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against H2, an embedded SQL database: real connections, statements and SQLSTATEs. */
class SqlCallsTest {

    private static final SqlFailures FAILURES = new SqlFailures("lp_x", "H2", "hunter2", "table locks",
            (e, op) -> null, e -> false);

    private String url;

    @BeforeEach
    void database() throws SQLException {
        url = "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        try (Connection c = source().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE locks (lock_key VARBINARY(4096) PRIMARY KEY, owner_id VARBINARY(4096))");
        }
    }

    private H2Source source() {
        return new H2Source(url, true);
    }

    private int rows() throws SQLException {
        try (Connection c = source().getConnection(); Statement st = c.createStatement();
                var rs = st.executeQuery("SELECT COUNT(*) FROM locks")) {
            return SqlValues.firstInt(rs);
        }
    }

    @Test
    void statementsRunInAutocommit_evenOnConnectionsThatCameWithoutIt_andTheFirstUseRunsOnce() throws Exception {
        AtomicInteger checks = new AtomicInteger();
        try (SqlCalls sql = SqlCalls.builder("lp_x", FAILURES).dataSource(new H2Source(url, false))
                .firstUse(c -> checks.incrementAndGet()).build()) {
            assertThat(checks).hasValue(0);
            int inserted = sql.update("tryAcquire", "INSERT INTO locks VALUES (?, ?)", (c, ps) -> {
                ps.setBytes(1, SqlValues.bytes("k"));
                SqlValues.setOwner(ps, 2, null);
            });
            assertThat(inserted).isEqualTo(1);
            assertThat(rows()).isEqualTo(1); // committed: another session sees it
            boolean anonymous = sql.query("inspect", false, "SELECT owner_id FROM locks WHERE lock_key = ?",
                    (c, ps) -> ps.setBytes(1, SqlValues.bytes("k")), rs -> rs.next() && rs.getBytes(1) == null);
            assertThat(anonymous).isTrue();
            assertThat(checks).hasValue(1);
        }
    }

    @Test
    void aFailedFirstUse_runsAgainOnTheNextCall() {
        AtomicInteger checks = new AtomicInteger();
        try (SqlCalls sql = SqlCalls.builder("lp_x", FAILURES).dataSource(source()).firstUse(c -> {
            if (checks.incrementAndGet() == 1) {
                throw new SQLException("relation locks_version does not exist", "42P01");
            }
        }).build()) {
            assertThatThrownBy(() -> sql.query("inspect", false, "SELECT 1", (c, ps) -> {}, SqlValues::firstInt))
                    .isExactlyInstanceOf(LockingException.class).hasMessageContaining("SQLSTATE 42P01");
            assertThat(sql.query("inspect", false, "SELECT 1", (c, ps) -> {}, SqlValues::firstInt)).isEqualTo(1);
            assertThat(sql.query("inspect", false, "SELECT 2", (c, ps) -> {}, SqlValues::firstInt)).isEqualTo(2);
            assertThat(checks).hasValue(2);
        }
    }

    @Test
    void aPool_isMadeOnFirstUse_andClosedWithTheCalls_butABorrowedDataSourceNeverIs() {
        AtomicInteger made = new AtomicInteger();
        H2Source pool = source();
        SqlCalls sql = SqlCalls.builder("lp_x", FAILURES).pool(() -> {
            made.incrementAndGet();
            return pool;
        }).build();
        assertThat(made).hasValue(0);
        sql.query("inspect", false, "SELECT 1", (c, ps) -> {}, SqlValues::firstInt);
        sql.query("inspect", false, "SELECT 1", (c, ps) -> {}, SqlValues::firstInt);
        assertThat(made).hasValue(1);
        sql.close();
        assertThat(pool.closed).isTrue();
        assertThat(sql.isClosed()).isTrue();
        assertThatThrownBy(() -> sql.query("inspect", false, "SELECT 1", (c, ps) -> {}, SqlValues::firstInt))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");

        H2Source borrowed = source();
        SqlCalls.builder("lp_x", FAILURES).dataSource(borrowed).build().close();
        assertThat(borrowed.closed).isFalse();
    }

    @Test
    void withQueryTimeout_eachStatementIsBounded_inWholeSecondsRoundedUp() throws Exception {
        try (SqlCalls bounded = SqlCalls.builder("lp_x", FAILURES).dataSource(source())
                .statementTimeout(Duration.ofMillis(1500)).queryTimeout(true).build();
                SqlCalls unbounded = SqlCalls.builder("lp_x", FAILURES).dataSource(source()).build();
                Connection c = source().getConnection(); Connection other = source().getConnection()) {
            try (PreparedStatement ps = bounded.prepare(c, "SELECT 1")) {
                assertThat(ps.getQueryTimeout()).isEqualTo(2);
            }
            try (PreparedStatement ps = unbounded.prepare(other, "SELECT 1")) { // H2 keeps the timeout per session
                assertThat(ps.getQueryTimeout()).isZero();
            }
        }
        assertThat(SqlCalls.seconds(Duration.ofMillis(1))).isEqualTo(1);
        assertThat(SqlCalls.seconds(Duration.ofSeconds(3))).isEqualTo(3);
    }

    @Test
    void whatTheServerRefuses_isALockingException_andNothingIsWritten() throws Exception {
        try (SqlCalls sql = SqlCalls.builder("lp_x", FAILURES).dataSource(source()).build()) {
            sql.update("tryAcquire", "INSERT INTO locks VALUES (?, NULL)", (c, ps) -> ps.setBytes(1, SqlValues.bytes("k")));
            Throwable twice = catchThrowable(() -> sql.update("tryAcquire", "INSERT INTO locks VALUES (?, NULL)",
                    (c, ps) -> ps.setBytes(1, SqlValues.bytes("k"))));
            assertThat(twice).isExactlyInstanceOf(LockingException.class)
                    .hasMessageStartingWith("lp_x: H2 refused tryAcquire (SQLSTATE 23505: ");
            assertThat(rows()).isEqualTo(1);
        }
    }

    @Test
    void noConnection_isUnavailable_andABreakAfterAChangeWasSent_mayHaveTakenEffect() {
        H2Source timedOut = new H2Source(url, true) {
            @Override
            public Connection getConnection() throws SQLException {
                throw new SQLTransientConnectionException("pool lp_x: connection is not available, request timed out");
            }
        };
        try (SqlCalls down = SqlCalls.builder("lp_x", FAILURES).dataSource(timedOut).build();
                SqlCalls sql = SqlCalls.builder("lp_x", FAILURES).dataSource(source()).build()) {
            assertThat(catchThrowable(() -> down.update("release", "DELETE FROM locks", (c, ps) -> {})))
                    .isExactlyInstanceOf(ProviderUnavailableException.class).hasMessageContaining("did not complete release");
            Throwable broke = catchThrowable(() -> sql.call("release", true, c -> {
                try (Statement st = c.createStatement()) {
                    st.executeUpdate("DELETE FROM locks");
                }
                throw new SQLException("An I/O error occurred while sending to the backend", "08006");
            }));
            assertThat(broke).isInstanceOf(BackendCallException.class);
            assertThat(((BackendCallException) broke).mayHaveTakenEffect()).isTrue();
            Throwable read = catchThrowable(() -> sql.call("inspect", false, c -> {
                throw new SQLException("An I/O error occurred while sending to the backend", "08006");
            }));
            assertThat(read).isExactlyInstanceOf(ProviderUnavailableException.class);
        }
    }

    @Test
    void aBuilderWithoutConnections_orWithABadTimeout_isRefused() {
        assertThatThrownBy(() -> SqlCalls.builder("lp_x", FAILURES).build()).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> SqlCalls.builder("lp_x", FAILURES).statementTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
