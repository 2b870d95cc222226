package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockingService;
import dev.locking.spi.ProviderConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigurationTest {
    @TempDir Path dir;

    private ProviderConfig configOf(String id) {
        ProviderConfig config = TestProviders.CONFIGS.get(id);
        assertThat(config).as("config of %s", id).isNotNull();
        return config;
    }

    @Test
    void laterSourcesWin_file_thenEnvironment_thenSystemProperties_thenBuilder() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        TestProviders.writeProperties(dir, """
                locking.providers.recording.fromFile=file
                locking.providers.recording.envWins=file
                locking.providers.recording.sysWins=file
                locking.providers.recording.builderWins=file
                """);
        Map<String, String> env = Map.of(
                "LOCKING_PROVIDERS_RECORDING_ENV_WINS", "env",
                "LOCKING_PROVIDERS_RECORDING_SYS_WINS", "env",
                "LOCKING_PROVIDERS_RECORDING_BUILDER_WINS", "env",
                "UNRELATED", "ignored");
        Properties sys = new Properties();
        sys.setProperty("locking.providers.recording.sysWins", "sys");
        sys.setProperty("locking.providers.recording.builderWins", "sys");
        sys.setProperty("java.unrelated", "ignored");

        try (LockingService locking = Locking.builder().classLoader(loader).environment(env).systemProperties(sys)
                .option("lp_recording", "builderWins", "builder")
                .build()) {
            assertThat(locking.providerIds()).contains("lp_recording");
        }
        ProviderConfig config = configOf("lp_recording");
        assertThat(config.option("fromFile")).contains("file");
        assertThat(config.option("envWins")).contains("env");
        assertThat(config.option("sysWins")).contains("sys");
        assertThat(config.option("builderWins")).contains("builder");
        assertThat(config.option("ENV_WINS")).as("names match ignoring case and separators").contains("env");
        assertThat(config.options()).doesNotContainKey("type");
    }

    @Test
    void namedInstances_getTheirOwnIdAndOptions_besideTheDefaultInstance() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        TestProviders.writeProperties(dir, """
                locking.providers.orders.type=recording
                locking.providers.orders.address=orders-host
                locking.default=lp_orders
                """);
        try (LockingService locking = Locking.builder().classLoader(loader).environment(Map.of())
                .systemProperties(new Properties())
                .provider("lp_billing", "recording", Map.of("address", "billing-host"))
                .build()) {
            assertThat(locking.providerIds()).containsExactly("lp_billing", "lp_memory", "lp_orders", "lp_recording");
            assertThat(locking.defaultProviderId()).isEqualTo("lp_orders");
        }
        assertThat(configOf("lp_orders").option("address")).contains("orders-host");
        assertThat(configOf("lp_billing").option("address")).contains("billing-host");
        assertThat(configOf("lp_recording").options()).isEmpty();
    }

    @Test
    void environment_setsTheDefault() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        try (LockingService locking = Locking.builder().classLoader(loader)
                .environment(Map.of("LOCKING_DEFAULT", "lp_memory")).systemProperties(new Properties()).build()) {
            assertThat(locking.defaultProviderId()).isEqualTo("lp_memory");
        }
    }

    @Test
    void builderDefault_winsOverEverySource() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        Properties sys = new Properties();
        sys.setProperty("locking.default", "lp_recording");
        try (LockingService locking = Locking.builder().classLoader(loader).environment(Map.of())
                .systemProperties(sys).defaultProvider("lp_memory").build()) {
            assertThat(locking.defaultProviderId()).isEqualTo("lp_memory");
        }
    }
}
