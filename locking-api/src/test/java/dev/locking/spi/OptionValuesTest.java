package dev.locking.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class OptionValuesTest {

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({"PT5S, 5000", "pt0.5s, 500", "250, 250", "250ms, 250", " 5s , 5000", "2m, 120000", "1h, 3600000",
            "5S, 5000"})
    void durations_acceptIsoUnitsAndPlainMilliseconds(String text, long millis) {
        assertThat(OptionValues.duration("timeout", text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "soon", "5 years", "1.5s", "-5s", "PTxS", "5d", "99999999999999999999"})
    void nonDurations_areRejected_namingTheOptionAndValue(String text) {
        assertThatThrownBy(() -> OptionValues.duration("connectTimeout", text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectTimeout")
                .hasMessageContaining("\"" + text + "\"");
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"0", "0s", "PT0S", "-PT1S"})
    void zeroAndNegativeDurations_areRejected(String text) {
        assertThatThrownBy(() -> OptionValues.duration("sweepInterval", text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sweepInterval");
    }

    @Test
    void providerConfig_readsDurationOptions() {
        ProviderConfig config = new ProviderConfig() {
            @Override
            public String id() {
                return "lp_x";
            }

            @Override
            public Optional<String> option(String name) {
                return Optional.ofNullable(options().get(name));
            }

            @Override
            public Map<String, String> options() {
                return Map.of("timeout", "3s");
            }
        };
        assertThat(config.durationOption("timeout")).contains(Duration.ofSeconds(3));
        assertThat(config.durationOption("other")).isEmpty();
    }
}
