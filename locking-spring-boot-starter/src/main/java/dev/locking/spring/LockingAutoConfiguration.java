package dev.locking.spring;

import dev.locking.api.LockingListener;
import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;

/**
 * Auto-configures one {@link LockingService} for a Spring Boot application, unless the application defines
 * its own {@code LockingService} bean.
 *
 * <h2>Configuration</h2>
 * The same property names the library reads without Spring, taken from the Spring {@code Environment}, so
 * {@code application.yml}, profiles, environment variables and system properties all work, with Spring's
 * precedence:
 * <pre>{@code
 * locking:
 *   default: lp_redis
 *   providers:
 *     redis:
 *       address: redis://127.0.0.1:6379
 * }</pre>
 * Every {@link LockingListener} bean is registered on the service (in {@code @Order}), then every
 * {@link LockingBuilderCustomizer} bean runs.
 *
 * <h2>Lifecycle</h2>
 * The service is built when the context starts; building never connects to a backend (providers connect on
 * first use), so a backend that is down does not stop the application from starting. The service is closed
 * with the context: the locks it holds through running {@code execute} calls are released and its threads
 * stop.
 *
 * @since 0.2.0
 */
@AutoConfiguration
@Import(LockedAdvisorConfiguration.class)
public class LockingAutoConfiguration {
    /** Created by Spring. */
    public LockingAutoConfiguration() {}

    /**
     * The application's locking service.
     *
     * @param environment    where {@code locking.*} is read from
     * @param resourceLoader whose class loader finds the provider jars
     * @param listeners      listener beans, registered in order
     * @param customizers    builder customizers, applied in order, last
     * @return the service; Spring closes it with the context
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public LockingService lockingService(Environment environment, ResourceLoader resourceLoader,
            ObjectProvider<LockingListener> listeners, ObjectProvider<LockingBuilderCustomizer> customizers) {
        Locking.Builder builder = Locking.builder();
        ClassLoader loader = resourceLoader.getClassLoader();
        if (loader != null) {
            builder.classLoader(loader);
        }
        EnvironmentSettings.from(environment).applyTo(builder);
        listeners.orderedStream().forEach(builder::listener);
        customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
        return builder.build();
    }
}
