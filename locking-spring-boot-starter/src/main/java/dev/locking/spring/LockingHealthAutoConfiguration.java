package dev.locking.spring;

import dev.locking.api.LockingService;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.context.annotation.Bean;

/**
 * A health contributor {@code locking} with one {@link LockingHealthIndicator} per provider of the application's
 * {@link LockingService}, when Spring Boot's health module ({@code spring-boot-health}, brought by the actuator)
 * is present. Turned off with {@code management.health.locking.enabled=false}.
 *
 * @since 0.2.0
 */
@AutoConfiguration(after = LockingAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnBean(LockingService.class)
@ConditionalOnEnabledHealthIndicator("locking")
public class LockingHealthAutoConfiguration {
    /** Created by Spring. */
    public LockingHealthAutoConfiguration() {}

    /**
     * One indicator per provider id, under the contributor {@code locking}.
     *
     * @param locking the application's service
     * @return the composite contributor
     */
    @Bean
    @ConditionalOnMissingBean(name = "lockingHealthContributor")
    public CompositeHealthContributor lockingHealthContributor(LockingService locking) {
        Map<String, LockingHealthIndicator> indicators = new LinkedHashMap<>();
        for (String id : locking.providerIds()) {
            indicators.put(id, new LockingHealthIndicator(locking, id));
        }
        return CompositeHealthContributor.fromMap(indicators);
    }
}
