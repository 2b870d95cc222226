package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockingService;
import dev.locking.spring.integration.LockingLock;
import dev.locking.spring.integration.LockingLockRegistry;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.integration.support.locks.DefaultLockRegistry;
import org.springframework.integration.support.locks.LockRegistry;

/** The LockRegistry bean on the application's LockingService (lp_memory, real threads not needed here). */
class LockingLockRegistryAutoConfigurationTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
            AutoConfigurations.of(LockingAutoConfiguration.class, LockingLockRegistryAutoConfiguration.class));

    @Test
    void aRegistryOnTheService_withItsPrefix_holdsKeysThere_andReleasesThemWhenTheContextCloses() {
        LockingService[] service = new LockingService[1];
        runner.withPropertyValues("locking.lock-registry.prefix=orders:", "locking.lock-registry.lease=10s")
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    service[0] = locking;
                    LockingLockRegistry registry = context.getBean(LockingLockRegistry.class);
                    LockingLock lock = registry.obtain(7);
                    lock.lock();
                    assertThat(locking.inspect("orders:7")).isPresent();
                    assertThat(locking.inspect("orders:7").orElseThrow().expiresAt()).isNotNull();
                });
        // The context closed with the lock held: the registry released it before the service closed (lp_memory's
        // table outlives the service, so a new service sees it).
        assertThat(service[0]).isNotNull();
        try (LockingService fresh = dev.locking.core.Locking.create()) {
            assertThat(fresh.inspect("orders:7")).isEmpty();
        }
    }

    @Test
    void theApplicationsOwnLockRegistry_wins() {
        runner.withBean(LockRegistry.class, DefaultLockRegistry::new).run(context -> {
            assertThat(context).doesNotHaveBean(LockingLockRegistry.class);
            Lock lock = context.getBean(LockRegistry.class).obtain("x");
            assertThat(lock).isNotInstanceOf(LockingLock.class);
        });
    }
}
