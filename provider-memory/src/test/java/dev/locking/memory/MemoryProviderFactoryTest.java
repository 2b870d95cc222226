package dev.locking.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MemoryProviderFactoryTest {

    private record Config(String id, Map<String, String> options) implements ProviderConfig {
        @Override
        public Optional<String> option(String name) {
            return Optional.ofNullable(options.get(name));
        }
    }

    @Test
    void serviceLoader_findsTheFactory_withTypeMemory() {
        List<LockingProviderFactory> factories = ServiceLoader.load(LockingProviderFactory.class).stream()
                .map(ServiceLoader.Provider::get)
                .toList();

        assertThat(factories).hasSize(1);
        assertThat(factories.get(0)).isInstanceOf(MemoryProviderFactory.class);
        assertThat(factories.get(0).type()).isEqualTo("memory");
    }

    @Test
    void create_givesAProviderWithTheConfiguredId_thatStartsNoThread() {
        try (LockingProvider provider = new MemoryProviderFactory().create(new Config("lp_orders", Map.of()))) {
            assertThat(provider.id()).isEqualTo("lp_orders");
            assertThat(((JvmWideTables.View) provider).table().sweeperThread()).isNull();
            assertThat(((JvmWideTables.View) provider).table().sweepInterval()).isEqualTo(Duration.ofSeconds(1));
        }
    }

    @ParameterizedTest
    @CsvSource({"PT2S, 2000", "pt0.5s, 500", "2000, 2000", "2s, 2000", "500ms, 500", " 3m , 180000", "1h, 3600000"})
    void sweepInterval_isReadInEveryDurationForm(String value, long millis) {
        try (LockingProvider provider =
                new MemoryProviderFactory().create(new Config("lp_memory", Map.of("sweepInterval", value)))) {
            assertThat(((JvmWideTables.View) provider).table().sweepInterval()).isEqualTo(Duration.ofMillis(millis));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "abc", "0", "-5", "PT-1S", "PT0S", "5 parsecs", "5x", "99999999999999999999"})
    void sweepInterval_thatIsNotAPositiveDuration_isRejectedByName(String value) {
        MemoryProviderFactory factory = new MemoryProviderFactory();
        Config config = new Config("lp_memory", Map.of("sweepInterval", value));

        assertThatThrownBy(() -> factory.create(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sweepInterval");
    }

    @Test
    void newProvider_givesAProviderWithThatId() {
        try (LockingProvider provider = MemoryProviderFactory.newProvider("lp_bench")) {
            assertThat(provider.id()).isEqualTo("lp_bench");
            assertThat(provider.tryAcquire(List.of("a"), null, null)).isNotNull();
        }
    }

    @Test
    void newProvider_rejectsAnEmptyId() {
        assertThatThrownBy(() -> MemoryProviderFactory.newProvider(""))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
