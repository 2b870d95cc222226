package dev.locking.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AcquireResultTest {
    @Test
    void acquiredOf_pairsEachKeyWithTheTokenAtItsPosition() {
        Instant at = Instant.parse("2026-12-08T00:00:00Z");
        AcquireResult.Acquired many = AcquireResult.Acquired.of(List.of("b", "a", "c"), new long[] {2, 1, 3}, at);
        assertThat(many.fencingTokens()).isEqualTo(Map.of("a", 1L, "b", 2L, "c", 3L));
        assertThat(many.expiresAt()).isEqualTo(at);
        AcquireResult.Acquired one = AcquireResult.Acquired.of(List.of("k"), new long[] {7}, null);
        assertThat(one.fencingTokens()).isEqualTo(Map.of("k", 7L));
        assertThat(one.expiresAt()).isNull();
    }

    @Test
    void acquiredOf_refusesAsManyTokensAsKeysOnly() {
        assertThatThrownBy(() -> AcquireResult.Acquired.of(List.of("a", "b"), new long[] {1}, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("1 tokens for 2 keys");
    }
}
