package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TestConfigTest {

    @Test
    void findsAnOptionUnderEverySpellingTheCoreAccepts() {
        TestConfig config = TestConfig.of("lp_x", "connect-timeout", "2s", "POOL_SIZE", "3", "dangling");
        assertThat(config.id()).isEqualTo("lp_x");
        assertThat(config.option("connectTimeout")).contains("2s");
        assertThat(config.option("pool.size")).contains("3");
        assertThat(config.option("dangling")).isEmpty();
        assertThat(config.options()).containsOnlyKeys("connect-timeout", "POOL_SIZE");
    }

    @Test
    void copiesItsMap() {
        Map<String, String> options = new java.util.HashMap<>(Map.of("a", "1"));
        TestConfig config = new TestConfig("lp_x", options);
        options.put("b", "2");
        assertThat(config.option("b")).isEmpty();
    }
}
