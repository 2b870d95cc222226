package dev.locking.spring;

import dev.locking.api.LockingService;
import dev.locking.spring.integration.LockingLockRegistry;
import java.time.Duration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.integration.support.locks.LockRegistry;

/**
 * A Spring Integration {@code LockRegistry} on the application's {@link LockingService}, when
 * {@code locking-spring-integration} is on the classpath and the application defines no {@code LockRegistry} of its
 * own. Its provider is {@code locking.lock-registry.provider} (default: the service's default), its key prefix
 * {@code locking.lock-registry.prefix} (default none) and its lease {@code locking.lock-registry.lease}
 * (default 30 s). Closed with the context, before the service.
 *
 * @since 0.2.0
 */
@AutoConfiguration(after = LockingAutoConfiguration.class)
@ConditionalOnClass(name = {"dev.locking.spring.integration.LockingLockRegistry",
        "org.springframework.integration.support.locks.LockRegistry"})
@ConditionalOnBean(LockingService.class)
public class LockingLockRegistryAutoConfiguration {
    /** Created by Spring. */
    public LockingLockRegistryAutoConfiguration() {}

    /**
     * The registry.
     *
     * @param locking     the application's service
     * @param environment where the registry's properties come from
     * @return the registry; its {@code close} stops its renewals and releases what it holds
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(LockRegistry.class)
    public LockingLockRegistry lockingLockRegistry(LockingService locking, Environment environment) {
        Binder binder = Binder.get(environment);
        LockingLockRegistry.Builder builder = LockingLockRegistry.builder(locking)
                .provider(binder.bind("locking.lock-registry.provider", String.class).orElse(null))
                .prefix(binder.bind("locking.lock-registry.prefix", String.class).orElse(""));
        binder.bind("locking.lock-registry.lease", Duration.class).ifBound(builder::lease);
        return builder.build();
    }
}
