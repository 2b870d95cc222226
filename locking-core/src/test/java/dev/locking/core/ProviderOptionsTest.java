package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.AcquireOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provider options: one warning wording for unknown options of every provider that declares its options,
 * and one rule for bad values (the id answers every call with ProviderUnavailableException).
 */
class ProviderOptionsTest {
    @TempDir Path dir;

    private static Locking.Builder isolated(ClassLoader loader) {
        return Locking.builder().classLoader(loader).environment(Map.of()).systemProperties(new Properties());
    }

    private static List<String> warnings(List<String> lines) {
        return lines.stream().filter(line -> line.contains("WARN")).toList();
    }

    @Test
    void aMisspeltOptionOfLpMemory_isWarnedAboutOnce_inTheOneWording() {
        Properties props = new Properties();
        props.setProperty("locking.providers.memory.sweepIntervall", "5s");
        var captured = LogCapture.during(() -> isolated(TestProviders.class.getClassLoader())
                .systemProperties(props).option("lp_memory", "sweep-interval", "2s").build());
        try (LockingService locking = captured.value()) {
            assertThat(locking.acquire("k").providerId()).isEqualTo("lp_memory");
        }
        assertThat(warnings(captured.lines())).singleElement().asString()
                .contains("Locking provider lp_memory: unknown option \"sweepIntervall\" is ignored;"
                        + " the options of type memory are [sweepInterval]");
    }

    @Test
    void aThirdPartyProviderThatDeclaresItsOptions_getsTheSameWording_andTheSameValueChecks() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.DeclaringFactory.class.getName());
        Properties props = new Properties();
        props.setProperty("locking.default", "lp_declaring");
        props.setProperty("locking.providers.declaring.retrys", "3");
        props.setProperty("locking.providers.declaring.RETRIES", "3");
        props.setProperty("locking.providers.declaring.fast", "TRUE");
        props.setProperty("locking.providers.declaring.wait", "500ms");
        var captured = LogCapture.during(() -> isolated(loader).systemProperties(props).build());
        try (LockingService locking = captured.value()) {
            assertThat(locking.acquire("k").providerId()).isEqualTo("lp_declaring");
        }
        assertThat(warnings(captured.lines())).singleElement().asString()
                .contains("Locking provider lp_declaring: unknown option \"retrys\" is ignored;"
                        + " the options of type declaring are [fast, name, retries, wait]");
    }

    @Test
    void aBadValueOfADeclaredOption_makesTheIdAnswerEveryCallWithProviderUnavailable_namingTheOption() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.DeclaringFactory.class.getName());
        for (String[] bad : List.of(new String[] {"retries", "three", "whole number"},
                new String[] {"fast", "yes", "true or false"}, new String[] {"wait", "soon", "not a duration"})) {
            Properties props = new Properties();
            props.setProperty("locking.providers.declaring." + bad[0], bad[1]);
            props.setProperty("locking.default", "lp_memory");
            TestProviders.CONFIGS.remove("lp_declaring");
            var captured = LogCapture.during(() -> isolated(loader).systemProperties(props).build());
            try (LockingService locking = captured.value()) {
                String key = "bad-option-" + bad[0]; // lp_memory's table is JVM-wide: a key no other test uses
                assertThatThrownBy(() -> locking.acquire(key, AcquireOptions.builder().provider("lp_declaring").build()))
                        .isInstanceOf(ProviderUnavailableException.class)
                        .hasMessageContaining("lp_declaring")
                        .hasMessageContaining("option " + bad[0])
                        .hasMessageContaining("\"" + bad[1] + "\"")
                        .hasMessageContaining(bad[2]);
                assertThat(locking.acquire(key).providerId()).isEqualTo("lp_memory");
                locking.release(key);
            }
            assertThat(warnings(captured.lines())).singleElement().asString()
                    .contains("lp_declaring").contains("option " + bad[0]);
            assertThat(TestProviders.CONFIGS).as("the factory was never called").doesNotContainKey("lp_declaring");
        }
    }

    @Test
    void aBadValueOfLpMemorysOwnOption_followsTheSameRule() {
        var captured = LogCapture.during(() -> isolated(TestProviders.class.getClassLoader())
                .option("lp_memory", "sweepInterval", "soon").build());
        try (LockingService locking = captured.value()) {
            assertThatThrownBy(() -> locking.acquire("k"))
                    .isInstanceOf(ProviderUnavailableException.class)
                    .hasMessageContaining("lp_memory")
                    .hasMessageContaining("option sweepInterval is not a duration: \"soon\"");
            assertThatThrownBy(() -> locking.inspect("k")).isInstanceOf(ProviderUnavailableException.class);
        }
        assertThat(warnings(captured.lines())).singleElement().asString()
                .contains("lp_memory").contains("sweepInterval");
    }

    @Test
    void aProviderThatDeclaresNothing_getsNoWarnings() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        Properties props = new Properties();
        props.setProperty("locking.providers.recording.anything", "goes");
        var captured = LogCapture.during(() -> isolated(loader).systemProperties(props).build());
        captured.value().close();
        assertThat(warnings(captured.lines())).isEmpty();
        assertThat(TestProviders.CONFIGS.get("lp_recording").option("anything")).contains("goes");
    }
}
