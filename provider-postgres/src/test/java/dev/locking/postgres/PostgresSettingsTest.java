package dev.locking.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.tck.TestConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PostgresSettingsTest {

    private static PostgresSettings parse(String... pairs) {
        return PostgresSettings.parse(TestConfig.of("lp_pg", pairs)::option, false);
    }

    @Test
    void defaults() {
        PostgresSettings s = parse();
        assertThat(s.url()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/postgres");
        assertThat(s.schema()).isEqualTo("public");
        assertThat(s.table()).isEqualTo("locking_locks");
        assertThat(s.poolSize()).isEqualTo(10);
        assertThat(s.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.createTable()).isTrue();
        assertThat(s.description()).isEqualTo("PostgreSQL at 127.0.0.1:5432/postgres");
    }

    @Test
    void theDescriptionAndToString_leaveOutCredentialsAndParameters() {
        PostgresSettings s = parse("url", "jdbc:postgresql://bob:hunter2@db:5433/app?password=hunter2&ssl=true",
                "password", "hunter2", "Create-Table", "FALSE", "pool_size", "3", "timeout", "250ms");
        assertThat(s.description()).isEqualTo("PostgreSQL at db:5433/app");
        assertThat(s.toString()).doesNotContain("hunter2");
        assertThat(s.createTable()).isFalse();
        assertThat(s.poolSize()).isEqualTo(3);
        assertThat(s.timeout()).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void badValues_areRefused_namingTheOption() {
        assertThatThrownBy(() -> parse("poolSize", "0")).hasMessageContaining("poolSize");
        assertThatThrownBy(() -> parse("poolSize", "many")).hasMessageContaining("poolSize");
        assertThatThrownBy(() -> parse("createTable", "maybe")).hasMessageContaining("createTable");
        assertThatThrownBy(() -> parse("timeout", "-1s")).hasMessageContaining("timeout");
        assertThatThrownBy(() -> parse("table", "locks; DROP TABLE x")).hasMessageContaining("table");
        assertThatThrownBy(() -> parse("table", "t".repeat(41))).hasMessageContaining("at most 40");
        assertThatThrownBy(() -> parse("schema", "a\"b")).hasMessageContaining("schema");
        assertThatThrownBy(() -> parse("url", "mysql://secret@host/db")).hasMessageContaining("url")
                .hasMessageNotContaining("secret");
    }

    @Test
    void anApplicationsDataSource_takesNoConnectionOptions() {
        Map<String, String> options = Map.of("url", "jdbc:postgresql://x/y");
        assertThatThrownBy(() -> PostgresSettings.parse(n -> Optional.ofNullable(options.get(n)), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("option url does not apply");
        PostgresSettings s = PostgresSettings.parse(n -> Optional.ofNullable(Map.of("table", "app_locks").get(n)), true);
        assertThat(s.table()).isEqualTo("app_locks");
    }
}
