package dev.locking.spi.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCallException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class SqlFailuresTest {

    private final SqlFailures failures = new SqlFailures("lp_x", "X at db:1/app", "hunter2", "table app.locks",
            (e, op) -> "LK409".equals(e.getSQLState()) ? new IllegalStateException("race in " + op) : null,
            e -> String.valueOf(e.getSQLState()).startsWith("57P"));

    @Test
    void aBrokenConnection_aPoolTimeout_orNoSqlState_isUnavailable() {
        for (SQLException e : new SQLException[] {new SQLException("connection reset", "08006"),
                new SQLTransientConnectionException("pool timed out after 5000ms"), new SQLException("I/O error"),
                new SQLException("timed out", "HYT00"), new SQLException("shutting down", "57P01")}) {
            RuntimeException out = failures.translate(e, "release");
            assertThat(out).isExactlyInstanceOf(ProviderUnavailableException.class)
                    .hasMessageStartingWith("lp_x: X at db:1/app did not complete release (").hasCause(e);
        }
        RuntimeException wrapped = failures.translate(new IllegalStateException("no SQL in it"), "inspect");
        assertThat(wrapped).isExactlyInstanceOf(ProviderUnavailableException.class);
    }

    @Test
    void theProvidersOwnMeaning_comesFirst_andWhatItDoesNotAdd_isRefused() {
        assertThat(failures.translate(new RuntimeException(new SQLException("conflict at 2", "LK409")), "tryAcquire"))
                .isExactlyInstanceOf(IllegalStateException.class).hasMessage("race in tryAcquire");
        SqlFailures plain = new SqlFailures("lp_x", "X", null, "t", (e, op) -> null, e -> false);
        assertThat(plain.translate(new SQLException("shutting down", "57P01"), "release"))
                .isExactlyInstanceOf(LockingException.class).hasMessage("lp_x: X refused release (SQLSTATE 57P01: shutting down)");
    }

    @Test
    void aRefusedLogin_aMissingPrivilege_andOtherRefusals_sayWhatTheyAre() {
        assertThat(failures.translate(new SQLException("password authentication failed", "28P01"), "inspect"))
                .isExactlyInstanceOf(ProviderUnavailableException.class).hasMessageContaining("refused the login")
                .hasMessageContaining("check user and password");
        assertThat(failures.translate(new SQLException("permission denied for table locks", "42501"), "release"))
                .isExactlyInstanceOf(LockingException.class)
                .hasMessageStartingWith("lp_x: permission denied for release on table app.locks (SQLSTATE 42501: ");
        assertThat(failures.translate(new SQLException("duplicate key\nDetail: (k)=(a)", "23505"), "tryAcquire"))
                .isExactlyInstanceOf(LockingException.class)
                .hasMessage("lp_x: X at db:1/app refused tryAcquire (SQLSTATE 23505: duplicate key)");
    }

    @Test
    void theSecret_isScrubbedFromMessages_andACauseShowingIt_isDropped() {
        SQLException leaky = new SQLException("login as bob/hunter2 failed", "28000");
        RuntimeException out = failures.translate(new RuntimeException("wrapped", leaky), "acquire");
        assertThat(out.getMessage()).contains("bob/****").doesNotContain("hunter2");
        assertThat(out.getCause()).isNull();
        SQLException clean = new SQLException("login failed", "28000");
        assertThat(failures.translate(clean, "acquire").getCause()).isSameAs(clean);
        assertThat(failures.scrub("a hunter2 b hunter2")).isEqualTo("a **** b ****");
        assertThat(new SqlFailures("lp_x", "X", "", "t", (e, op) -> null, e -> false).scrub("as is")).isEqualTo("as is");
    }

    @Test
    void aConnectionBrokenDuringAChange_mayHaveTakenEffect() {
        BackendCallException out = failures.brokenDuring(new SQLException("EOF with hunter2", "08006"), "release");
        assertThat(out.mayHaveTakenEffect()).isTrue();
        assertThat(out.operation()).isEqualTo("release");
        assertThat(out.getMessage()).contains("broke during release").contains("SQLSTATE 08006").doesNotContain("hunter2");
        assertThat(out.getCause()).isNull();
        assertThat(failures.isBroken(new SQLException("canceled", "HY008"))).isTrue();
        assertThat(failures.isBroken(new SQLException("unique", "23505"))).isFalse();
    }
}
