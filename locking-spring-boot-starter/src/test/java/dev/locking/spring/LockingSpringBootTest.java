package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockHandle;
import dev.locking.api.LockingService;
import dev.locking.micrometer.LockingMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.ActiveProfiles;

/** A whole Spring Boot application: application.yml, a profile's file, auto-configuration, @Locked, meters. */
@SpringBootTest(classes = LockingSpringBootTest.App.class)
@ActiveProfiles("orders")
class LockingSpringBootTest {

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
        @Bean
        Jobs jobs() {
            return new Jobs();
        }
    }

    @Autowired
    LockingService locking;

    @Autowired
    Jobs jobs;

    @Autowired
    MeterRegistry registry;

    @Test
    void theApplicationFiles_andTheActiveProfile_configureTheService() {
        assertThat(locking.providerIds()).contains("lp_memory", "lp_orders");
        assertThat(locking.defaultProviderId()).as("application-orders.yml wins over application.yml")
                .isEqualTo("lp_orders");
    }

    @Test
    void lockedMethods_runOnTheDefaultProvider_andAreMetered() {
        LockHandle handle = jobs.handle(5);
        assertThat(handle.providerId()).isEqualTo("lp_orders");
        assertThat(handle.keys()).containsExactly("order:5");
        assertThat(registry.get(LockingMetrics.OPERATIONS).tag("provider", "lp_orders").tag("operation", "execute")
                .tag("outcome", "taken").counter().count()).isGreaterThanOrEqualTo(1.0);
    }
}
