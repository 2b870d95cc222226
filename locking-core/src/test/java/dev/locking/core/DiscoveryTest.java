package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderNotFoundException;
import dev.locking.api.ProviderUnavailableException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiscoveryTest {
    @TempDir Path dir;

    private static Locking.Builder isolated(ClassLoader loader) {
        return Locking.builder().classLoader(loader).environment(Map.of()).systemProperties(new Properties());
    }

    @Test
    void onlyTheEmbeddedProvider_isTheDefault_andSaysWhy() {
        var captured = LogCapture.during(() -> isolated(TestProviders.class.getClassLoader()).build());
        try (LockingService locking = captured.value()) {
            assertThat(locking.providerIds()).containsExactly("lp_memory");
            assertThat(locking.defaultProviderId()).isEqualTo("lp_memory");
        }
        assertThat(captured.lines()).anySatisfy(line -> assertThat(line)
                .contains("INFO").contains("Locking providers: lp_memory (type memory")
                .contains("Default: lp_memory, no other provider is configured"));
        assertThat(captured.lines()).noneSatisfy(line -> assertThat(line).contains("WARN"));
    }

    @Test
    void oneMoreProvider_becomesTheDefault() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        var captured = LogCapture.during(() -> isolated(loader).build());
        try (LockingService locking = captured.value()) {
            assertThat(locking.providerIds()).containsExactly("lp_memory", "lp_recording");
            assertThat(locking.defaultProviderId()).isEqualTo("lp_recording");
            assertThat(locking.acquire("k").providerId()).isEqualTo("lp_recording");
        }
        assertThat(captured.lines()).anySatisfy(line -> assertThat(line)
                .contains("Default: lp_recording, the only provider besides lp_memory"));
        assertThat(captured.lines()).noneSatisfy(line -> assertThat(line).contains("WARN"));
    }

    @Test
    void severalProviders_withoutLockingDefault_fallBackToMemory_withAWarning() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        Properties props = new Properties();
        props.setProperty("locking.providers.orders.type", "recording");
        var captured = LogCapture.during(() -> isolated(loader).systemProperties(props).build());
        try (LockingService locking = captured.value()) {
            assertThat(locking.providerIds()).containsExactly("lp_memory", "lp_orders", "lp_recording");
            assertThat(locking.defaultProviderId()).isEqualTo("lp_memory");
        }
        assertThat(captured.lines()).anySatisfy(line -> assertThat(line)
                .contains("WARN").contains("does not exclude other processes").contains("README.md#providers"));
    }

    @Test
    void anExplicitChoiceOfMemory_amongSeveral_isNotWarnedAbout() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        Properties props = new Properties();
        props.setProperty("locking.providers.orders.type", "recording");
        var onBuilder = LogCapture.during(() -> isolated(loader).systemProperties(props)
                .defaultProvider("lp_memory").build());
        Properties withDefault = new Properties();
        withDefault.putAll(props);
        withDefault.setProperty("locking.default", "lp_memory");
        var inSettings = LogCapture.during(() -> isolated(loader).systemProperties(withDefault).build());
        for (var captured : List.of(onBuilder, inSettings)) {
            try (LockingService locking = captured.value()) {
                assertThat(locking.defaultProviderId()).isEqualTo("lp_memory");
            }
            assertThat(captured.lines()).anySatisfy(line -> assertThat(line)
                    .contains("INFO").contains("Default: lp_memory, set by locking.default"));
            assertThat(captured.lines()).noneSatisfy(line -> assertThat(line).contains("WARN"));
        }
    }

    @Test
    void lockingDefault_choosesAmongSeveral() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName());
        Properties props = new Properties();
        props.setProperty("locking.providers.orders.type", "recording");
        props.setProperty("locking.default", "lp_orders");
        try (LockingService locking = isolated(loader).systemProperties(props).build()) {
            assertThat(locking.defaultProviderId()).isEqualTo("lp_orders");
        }
    }

    @Test
    void lockingDefault_namingNoProvider_failsTheBuild_listingTheKnownIds() {
        Properties props = new Properties();
        props.setProperty("locking.default", "lp_redis");
        assertThatThrownBy(() -> isolated(TestProviders.class.getClassLoader()).systemProperties(props).build())
                .isInstanceOfSatisfying(ProviderNotFoundException.class, e -> {
                    assertThat(e.getProviderId()).isEqualTo("lp_redis");
                    assertThat(e.getAvailable()).containsExactly("lp_memory");
                    assertThat(e).hasMessageContaining("lp_redis").hasMessageContaining("[lp_memory]");
                });
    }

    @Test
    void aFailingFactory_takesNoOtherDown_andItsIdNamesTheCause() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.FailingFactory.class.getName(),
                TestProviders.RecordingFactory.class.getName());
        Properties props = new Properties();
        props.setProperty("locking.default", "lp_recording");
        var captured = LogCapture.during(() -> isolated(loader).systemProperties(props).build());
        try (LockingService locking = captured.value()) {
            assertThat(locking.providerIds()).contains("lp_failing", "lp_recording", "lp_memory");
            assertThat(locking.acquire("k").providerId()).isEqualTo("lp_recording");
            assertThatThrownBy(() -> locking.inspect("k", "lp_failing"))
                    .isInstanceOf(ProviderUnavailableException.class)
                    .hasMessageContaining("lp_failing")
                    .hasMessageContaining("backend misconfigured on purpose");
        }
        assertThat(captured.lines().stream().filter(l -> l.contains("WARN") && l.contains("lp_failing")))
                .hasSize(1);
    }

    @Test
    void aJarWhoseFactoryCannotLoad_isSkipped_andLogged() {
        ClassLoader loader = TestProviders.loaderWith(dir, "com.example.MissingFactory",
                TestProviders.RecordingFactory.class.getName());
        var captured = LogCapture.during(() -> isolated(loader).build());
        try (LockingService locking = captured.value()) {
            assertThat(locking.providerIds()).containsExactly("lp_memory", "lp_recording");
        }
        assertThat(captured.lines()).anySatisfy(line -> assertThat(line)
                .contains("WARN").contains("failed to load").contains("com.example.MissingFactory"));
    }

    @Test
    void twoJarsClaimingOneType_failTheBuild() {
        ClassLoader loader = TestProviders.loaderWith(dir, TestProviders.RecordingFactory.class.getName(),
                TestProviders.RivalRecordingFactory.class.getName());
        assertThatThrownBy(() -> isolated(loader).build())
                .isInstanceOf(LockingException.class)
                .hasMessageContaining("Two locking provider jars claim type \"recording\"")
                .hasMessageContaining("RivalRecordingFactory");
    }

    @Test
    void aConfiguredInstanceOfAnUnknownType_answersWithTheReason() {
        Properties props = new Properties();
        props.setProperty("locking.providers.orders.type", "redis");
        props.setProperty("locking.default", "lp_memory");
        try (LockingService locking = isolated(TestProviders.class.getClassLoader()).systemProperties(props).build()) {
            assertThatThrownBy(() -> locking.acquire("k", dev.locking.api.AcquireOptions.builder()
                    .provider("lp_orders").build()))
                    .isInstanceOf(ProviderUnavailableException.class)
                    .hasMessageContaining("no provider of type \"redis\"");
        }
    }

    @Test
    void aReadyMadeProvider_replacesTheDiscoveredOneOfTheSameId() {
        var mine = new TestProviders.CountingProvider(dev.locking.memory.MemoryProviderFactory.newProvider("lp_memory"));
        try (LockingService locking = isolated(TestProviders.class.getClassLoader()).provider(mine).build()) {
            locking.acquire("k");
            assertThat(mine.tryAcquires).hasValue(1);
        }
    }

    @Test
    void theSameIdTwiceOnTheBuilder_isRejected() {
        var builder = Locking.builder()
                .provider(dev.locking.memory.MemoryProviderFactory.newProvider("lp_x"));
        assertThatThrownBy(() -> builder.provider(dev.locking.memory.MemoryProviderFactory.newProvider("lp_x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Duplicate provider id \"lp_x\"");
        assertThatThrownBy(() -> builder.provider("lp_x", "memory", Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Duplicate provider id \"lp_x\"");
    }

    @Test
    void aClosedService_rejectsCalls() {
        LockingService locking = isolated(TestProviders.class.getClassLoader()).build();
        locking.close();
        locking.close();
        assertThatThrownBy(() -> locking.acquire("k")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }
}
