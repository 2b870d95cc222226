package dev.locking.spring;

import dev.locking.api.LockingService;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * A health contributor {@code locking} with one {@link LockingHealthIndicator} per provider of the application's
 * {@link LockingService}, when Spring Boot's health module ({@code spring-boot-health}, brought by the actuator)
 * is present. Turned off with {@code management.health.locking.enabled=false}.
 *
 * <p>Checked: the default provider, {@code lp_memory} and every provider configured under
 * {@code locking.providers.<name>} in the {@code Environment}. A provider that is there only because its jar is
 * reports UNKNOWN without being touched, which leaves the overall status alone: checking it would connect it to
 * its default address (or start an embedded Hazelcast member) although nothing uses it.
 *
 * @since 0.2.0
 */
@AutoConfiguration(after = LockingAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnBean(LockingService.class)
@ConditionalOnEnabledHealthIndicator("locking")
public class LockingHealthAutoConfiguration {
    private static final String MEMORY = "lp_memory";

    /** Created by Spring. */
    public LockingHealthAutoConfiguration() {}

    /**
     * One indicator per provider id, under the contributor {@code locking}.
     *
     * @param locking     the application's service
     * @param environment where the configured providers are named
     * @return the composite contributor
     */
    @Bean
    @ConditionalOnMissingBean(name = "lockingHealthContributor")
    public CompositeHealthContributor lockingHealthContributor(LockingService locking, Environment environment) {
        Set<String> checked = new HashSet<>();
        checked.add(locking.defaultProviderId());
        checked.add(MEMORY);
        EnvironmentSettings.from(environment).providers().keySet().forEach(name -> checked.add("lp_" + name));
        Map<String, LockingHealthIndicator> indicators = new LinkedHashMap<>();
        for (String id : locking.providerIds()) {
            indicators.put(id, new LockingHealthIndicator(locking, id, checked.contains(id)));
        }
        return CompositeHealthContributor.fromMap(indicators);
    }
}
