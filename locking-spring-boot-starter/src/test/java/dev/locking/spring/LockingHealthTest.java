package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

class LockingHealthTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
            AutoConfigurations.of(LockingAutoConfiguration.class, LockingHealthAutoConfiguration.class));

    @Test
    void everyProviderHasAnIndicator_upWhenItsBackendAnswers_downWithTheReasonWhenNot() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        runner.withPropertyValues("locking.providers.redis.address=redis://127.0.0.1:" + closedPort,
                "locking.providers.redis.connect-timeout=500ms", "locking.providers.redis.timeout=500ms")
                .run(context -> {
                    CompositeHealthContributor locking = context.getBean("lockingHealthContributor",
                            CompositeHealthContributor.class);
                    Health memory = ((HealthIndicator) locking.getContributor("lp_memory")).health();
                    assertThat(memory.getStatus()).isEqualTo(Status.UP);
                    assertThat(memory.getDetails()).containsEntry("provider", "lp_memory");

                    long start = System.nanoTime();
                    Health redis = ((HealthIndicator) locking.getContributor("lp_redis")).health();
                    Duration took = Duration.ofNanos(System.nanoTime() - start);
                    assertThat(redis.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(redis.getDetails()).containsEntry("provider", "lp_redis").containsKey("error");
                    assertThat(String.valueOf(redis.getDetails().get("error"))).contains("ProviderUnavailableException");
                    assertThat(took).as("a down backend is reported within a bounded time").isLessThan(Duration.ofSeconds(30));

                    // lp_zookeeper is there only because its jar is: not checked, so it cannot turn the status DOWN.
                    Health zookeeper = ((HealthIndicator) locking.getContributor("lp_zookeeper")).health();
                    assertThat(zookeeper.getStatus()).isEqualTo(Status.UNKNOWN);
                    assertThat(zookeeper.getDetails()).containsKey("reason");
                });
    }

    @Test
    void theIndicatorCanBeTurnedOff() {
        runner.withPropertyValues("management.health.locking.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean("lockingHealthContributor"));
    }
}
