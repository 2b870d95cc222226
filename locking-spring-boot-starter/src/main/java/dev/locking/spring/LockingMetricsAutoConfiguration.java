package dev.locking.spring;

import dev.locking.micrometer.LockingMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Records the application's locking into its Micrometer {@link MeterRegistry} when {@code locking-micrometer}
 * is on the classpath and the application has a registry: a {@link LockingMetrics} bean, which the locking
 * auto-configuration registers on the service as a listener, bound to the registry. Spring Boot's metrics
 * module binds {@code MeterBinder} beans too; both bind it to the same (primary) registry, which is one binding.
 *
 * @since 0.2.0
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"})
@ConditionalOnClass(name = {"dev.locking.micrometer.LockingMetrics", "io.micrometer.core.instrument.MeterRegistry"})
@ConditionalOnBean(MeterRegistry.class)
public class LockingMetricsAutoConfiguration {
    /** Created by Spring. */
    public LockingMetricsAutoConfiguration() {}

    /**
     * The meters' recorder, bound to the application's registry (the primary one when there are several).
     *
     * @param registries the application's registries
     * @return the recorder; a {@code LockingListener} of the service
     */
    @Bean
    @ConditionalOnMissingBean
    public LockingMetrics lockingMetrics(ObjectProvider<MeterRegistry> registries) {
        LockingMetrics metrics = new LockingMetrics();
        MeterRegistry registry = registries.getIfUnique();
        if (registry != null) {
            metrics.bindTo(registry);
        }
        return metrics;
    }
}
