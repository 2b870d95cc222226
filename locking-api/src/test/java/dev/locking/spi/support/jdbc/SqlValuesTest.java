package dev.locking.spi.support.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SqlValuesTest {

    @Test
    void everyStringTheCoreAccepts_comesBackExactly_andForeignBytesAreRefusedNamingTheKey() {
        for (String s : List.of("a", "k\u0000ey", "\uD83D\uDE00 pair", "\uE000", "é")) {
            assertThat(SqlValues.owner(SqlValues.bytes(s), "k", "lp_x")).isEqualTo(s);
        }
        byte[][] both = SqlValues.bytes(List.of("a", "é"));
        assertThat(both[0]).containsExactly('a');
        assertThat(both[1]).containsExactly((byte) 0xc3, (byte) 0xa9);
        assertThatThrownBy(() -> SqlValues.owner(new byte[] {(byte) 0xff, 'x'}, "orders/1", "lp_x"))
                .isExactlyInstanceOf(LockingException.class).hasMessageContaining("lp_x")
                .hasMessageContaining("\"orders/1\"").hasMessageContaining("not UTF-8");
    }

    @Test
    void eachKeyGetsTheTokenInItsPlace_andTheCountsMustMatch() {
        Instant at = Instant.parse("2026-01-01T00:00:00Z");
        AcquireResult.Acquired many = SqlValues.acquired(List.of("b", "a", "c"), new Long[] {2L, 1L, 3L}, at);
        assertThat(many.fencingTokens()).containsOnly(entry("b", 2L), entry("a", 1L), entry("c", 3L));
        assertThat(SqlValues.acquired(List.of("k"), new Long[] {7L}, null).expiresAt()).isNull();
        assertThatThrownBy(() -> SqlValues.acquired(List.of("a", "b"), new Long[] {1L}, at))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void expiriesAndNullableNumbers_areReadFromARow() throws Exception {
        Instant sent = Instant.parse("2026-01-01T00:00:00Z");
        try (Connection c = DriverManager.getConnection("jdbc:h2:mem:values"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT CAST(NULL AS BIGINT), CAST(1500 AS BIGINT), 4")) {
            rs.next();
            assertThat(SqlValues.expiry(sent, rs, 1)).isNull();
            assertThat(SqlValues.expiry(sent, rs, 2)).isEqualTo(sent.plusMillis(1500));
            assertThat(SqlValues.longOr(rs, 1, -1)).isEqualTo(-1);
            assertThat(SqlValues.longOr(rs, 3, -1)).isEqualTo(4);
        }
        try (Connection c = DriverManager.getConnection("jdbc:h2:mem:values"); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT 1 WHERE 1 = 0")) {
            assertThatThrownBy(() -> SqlValues.firstInt(rs)).hasMessageContaining("no row");
        }
    }
}
