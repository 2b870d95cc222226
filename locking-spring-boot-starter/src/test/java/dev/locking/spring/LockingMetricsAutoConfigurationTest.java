package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.AcquireOptions;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockingService;
import dev.locking.micrometer.LockingMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class LockingMetricsAutoConfigurationTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
            AutoConfigurations.of(LockingAutoConfiguration.class, LockingMetricsAutoConfiguration.class));

    @Test
    void theApplicationsRegistry_getsTheMeters_ofKnownOperations() {
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
            assertThat(context).hasSingleBean(LockingMetrics.class);
            knownOperations_areCountedOnce(context);
        });
    }

    @Test
    void withSpringBootsMetricsModule_theMetersAreCountedOnce() {
        runner.withConfiguration(AutoConfigurations.of(MetricsAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class))
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(LockingMetrics.class);
                    knownOperations_areCountedOnce(context);
                });
    }

    @Test
    void withoutARegistry_thereAreNoMeters() {
        runner.run(context -> assertThat(context).hasSingleBean(LockingService.class)
                .doesNotHaveBean(LockingMetrics.class));
    }

    private static void knownOperations_areCountedOnce(AssertableApplicationContext context) {
        LockingService locking = context.getBean(LockingService.class);
        MeterRegistry registry = context.getBean(MeterRegistry.class);
        locking.execute("metrics:a", lock -> 1);
        locking.acquire("metrics:b", AcquireOptions.builder().ownerId("alice").build());
        assertThatThrownBy(() -> locking.acquire("metrics:b", AcquireOptions.builder().ownerId("bob").build()))
                .isInstanceOf(LockAcquisitionException.class);
        locking.releaseAll(dev.locking.api.ReleaseAllOptions.builder().ownerId("alice").build());

        assertThat(count(registry, "execute", "taken")).isEqualTo(1.0);
        assertThat(count(registry, "acquire", "taken")).isEqualTo(1.0);
        assertThat(count(registry, "acquire", "conflict")).isEqualTo(1.0);
    }

    private static double count(MeterRegistry registry, String operation, String outcome) {
        return registry.get(LockingMetrics.OPERATIONS).tag("provider", "lp_memory").tag("operation", operation)
                .tag("outcome", outcome).counter().count();
    }
}
