package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.tck.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.config.Config;

/** Options of {@code lp_redis}: parsed and checked when the provider is created, without any server. */
class RedisSettingsTest {
    @TempDir
    Path dir;

    private static RedisSettings parse(String... options) {
        return RedisSettings.parse(TestConfig.of("lp_redis", options));
    }

    @Test
    void theFactory_isFoundByServiceLoader_asTypeRedis() {
        assertThat(ServiceLoader.load(LockingProviderFactory.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(f -> f instanceof RedisProviderFactory))
                .singleElement()
                .extracting(LockingProviderFactory::type)
                .isEqualTo("redis");
    }

    @Test
    void defaults_areALocalServer_theLockingPrefix_andBoundedTimeouts() {
        RedisSettings settings = parse();

        assertThat(settings.config.useSingleServer().getAddress()).isEqualTo("redis://127.0.0.1:6379");
        assertThat(settings.layout.prefix()).isEqualTo("locking:");
        assertThat(settings.config.useSingleServer().getConnectTimeout()).isEqualTo(3000);
        assertThat(settings.config.useSingleServer().getTimeout()).isEqualTo(3000);
        assertThat(settings.config.useSingleServer().getRetryAttempts()).isEqualTo(1);
        assertThat(settings.callBound).isLessThanOrEqualTo(Duration.ofSeconds(12));
        assertThat(settings.cluster).isFalse();
    }

    @Test
    void createDoesNotConnect() {
        long start = System.nanoTime();
        LockingProvider provider = new RedisProviderFactory().create(TestConfig.of("lp_redis",
                "address", "redis://192.0.2.1:6379"));
        provider.close();

        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void credentialsInTheAddress_areTakenOut_ofWhatRedissonSees() {
        RedisSettings settings = parse("address", "rediss://app:p%40ss+word@redis.example:6380/3");

        assertThat(settings.config.useSingleServer().getAddress()).isEqualTo("rediss://redis.example:6380");
        assertThat(settings.config.useSingleServer().getDatabase()).isEqualTo(3);
        assertThat(settings.config.getUsername()).isEqualTo("app");
        assertThat(settings.config.getPassword()).isEqualTo("p@ss+word");
        assertThat(settings.description).contains("TLS", "with password").doesNotContain("p@ss", "example");
    }

    @Test
    void optionsNameOverridesTheAddress_andNamesMatchLooselyAsTheCoreDoes() {
        RedisSettings settings = parse("ADDRESS", "redis://:inline@[::1]", "password", "explicit",
                "connect-timeout", "PT2S", "TIMEOUT", "1500ms", "retry_attempts", "3", "key.prefix", "app:");

        assertThat(settings.config.useSingleServer().getAddress()).isEqualTo("redis://[::1]:6379");
        assertThat(settings.config.getPassword()).isEqualTo("explicit");
        assertThat(settings.config.useSingleServer().getConnectTimeout()).isEqualTo(2000);
        assertThat(settings.config.useSingleServer().getTimeout()).isEqualTo(1500);
        assertThat(settings.config.useSingleServer().getRetryAttempts()).isEqualTo(3);
        assertThat(settings.layout.prefix()).isEqualTo("app:");
    }

    @Test
    void clusterAndSentinelModes_useTheirNodes() {
        RedisSettings cluster = parse("mode", "cluster", "nodes", "127.0.0.1:7000, redis://127.0.0.1:7001");
        RedisSettings sentinel = parse("mode", "Sentinel", "nodes", "10.0.0.1:26379", "masterName", "main");

        assertThat(cluster.cluster).isTrue();
        assertThat(cluster.config.useClusterServers().getNodeAddresses())
                .containsExactly("redis://127.0.0.1:7000", "redis://127.0.0.1:7001");
        assertThat(sentinel.config.useSentinelServers().getSentinelAddresses())
                .containsExactly("redis://10.0.0.1:26379");
        assertThat(sentinel.config.useSentinelServers().getMasterName()).isEqualTo("main");
    }

    @Test
    void badValues_areRejected_namingTheOption_neverThePassword() {
        assertThatThrownBy(() -> parse("mode", "ring")).hasMessageContaining("option mode");
        assertThatThrownBy(() -> parse("address", "http://user:hunter2@host"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("option address")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
        assertThatThrownBy(() -> parse("address", "redis://user:hunter2@host:99999"))
                .hasMessageContaining("option address")
                .satisfies(e -> RedisProviderTest.assertNoSecretIn(e, "hunter2"));
        assertThatThrownBy(() -> parse("connectTimeout", "soon")).hasMessageContaining("option connectTimeout");
        assertThatThrownBy(() -> parse("timeout", "0")).hasMessageContaining("option timeout must be positive");
        assertThatThrownBy(() -> parse("database", "-1")).hasMessageContaining("option database");
        assertThatThrownBy(() -> parse("mode", "sentinel", "nodes", "h:1")).hasMessageContaining("masterName");
        assertThatThrownBy(() -> parse("mode", "cluster", "database", "2")).hasMessageContaining("database");
        assertThatThrownBy(() -> parse("keyPrefix", "app{1}:")).hasMessageContaining("keyPrefix");
        assertThatThrownBy(() -> parse("sslTruststore", dir.resolve("missing.p12").toString()))
                .hasMessageContaining("option sslTruststore");
        assertThatThrownBy(() -> parse("config", dir.resolve("missing.yaml").toString()))
                .hasMessageContaining("option config");
    }

    @Test
    void aYamlConfig_isUsedAsItIs_andExcludesTheConnectionOptions() throws Exception {
        Path yaml = dir.resolve("redisson.yaml");
        Files.writeString(yaml, """
                clusterServersConfig:
                  nodeAddresses:
                  - "redis://127.0.0.1:7000"
                  timeout: 1234
                """);

        RedisSettings settings = parse("config", yaml.toString(), "keyPrefix", "y:");

        assertThat(settings.cluster).isTrue();
        assertThat(settings.config.useClusterServers().getTimeout()).isEqualTo(1234);
        assertThat(settings.layout.prefix()).isEqualTo("y:");
        assertThatThrownBy(() -> parse("config", yaml.toString(), "password", "x"))
                .hasMessageContaining("cannot be combined with password");
    }

    @Test
    void aBrokenYamlFile_isReportedWithoutItsContent() throws Exception {
        Path yaml = dir.resolve("broken.yaml");
        Files.writeString(yaml, "singleServerConfig:\n  password: \"hunter2\"\n  timeout: \"not-a-number-hunter2\"\n");

        assertThatThrownBy(() -> parse("config", yaml.toString()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("option config")
                .satisfies(e -> RedisProviderTest.assertNoSecretIn(e, "hunter2"));
    }

    @Test
    void callBound_followsAForeignConfig() {
        Config config = new Config();
        config.useSingleServer().setAddress("redis://127.0.0.1:6379").setTimeout(1000).setConnectTimeout(1000)
                .setRetryAttempts(0);

        assertThat(RedisSettings.callBound(config)).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void keyLayout_escapesBracesAndGlobCharacters() {
        KeyLayout layout = new KeyLayout("a*b?[c]\\:");

        assertThat(layout.lockKey("x{y}z")).isEqualTo("a*b?[c]\\:{x\\(y\\)z}");
        assertThat(layout.fenceKey("k")).isEqualTo("a*b?[c]\\:{k}:fence");
        assertThat(layout.ownerIndexKey("o{1}")).isEqualTo("a*b?[c]\\:{o\\(1\\)}:owner");
        assertThat(layout.scanPattern()).isEqualTo("a\\*b\\?\\[c\\]\\\\:{*}");
        assertThat(KeyLayout.escape("a\\(")).isNotEqualTo(KeyLayout.escape("a{"));
        assertThat(KeyLayout.escape("\uD800")).isEqualTo("\\ud800").isNotEqualTo(KeyLayout.escape("?"));
        assertThat(KeyLayout.escape("x\uD83D\uDE00y")).isEqualTo("x\uD83D\uDE00y");
        assertThat(KeyLayout.escape("{\uD83D\uDE00\uDE00")).isEqualTo("\\(\uD83D\uDE00\\ude00");
        assertThat(KeyLayout.slot("{user1000}.following")).isEqualTo(KeyLayout.slot("{user1000}.followers"));
        assertThat(KeyLayout.slot("123456789")).isEqualTo(0x31C3 % 16384);
    }

    @Test
    void keyLayout_namesWhatAKeyIs_withTheUserKeyUnescaped() {
        KeyLayout layout = new KeyLayout("p:");
        for (String key : List.of("k", "a{b}\\c", "x\ny\r", "\uD800?", "\\u0041", "\uD83D\uDE00")) {
            assertThat(KeyLayout.unescape(KeyLayout.escape(key))).isEqualTo(key);
            assertThat(layout.describe(layout.lockKey(key))).startsWith("the lock of key \"" + key + "\" ");
            assertThat(layout.describe(layout.fenceKey(key))).startsWith("the fencing token of key \"" + key + "\"");
            assertThat(layout.describe(layout.ownerIndexKey(key))).startsWith("the lock index of owner \"" + key);
        }
        assertThat(layout.describe("elsewhere")).isEqualTo("Redis key \"elsewhere\"");
    }
}
