package dev.locking.spring;

import dev.locking.core.Locking;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.OptionValues;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.env.Environment;

/**
 * Registers a provider built on a client bean of the application ({@code RedissonClient}, {@code CuratorFramework},
 * {@code HazelcastInstance}, a PostgreSQL {@code DataSource}) in place of the provider's own connection, so locks
 * share the application's connections.
 *
 * <p>Only when the application has exactly one such bean (or one primary) and the provider's instance
 * ({@code locking.providers.<type>.*}) sets no option but those that do not concern the connection (its namespace,
 * say): an address, a config file or a connection timeout means the application wants the provider's own
 * connection. The provider never closes the client,
 * and the service is closed before the client (it is registered as depending on the client's bean).
 *
 * @param <C> the client type
 */
final class ApplicationClient<C> {
    private static final Logger log = LoggerFactory.getLogger(ApplicationClient.class);
    /** The bean name of the auto-configured service: the method name in {@link LockingAutoConfiguration}. */
    static final String SERVICE_BEAN = "lockingService";

    private final String type;
    private final Class<C> clientType;
    private final Set<String> allowedOptions;
    private final BiFunction<C, Map<String, String>, LockingProvider> create;

    /**
     * @param type            the provider type, such as {@code redis}; the provider id is {@code lp_<type>}
     * @param clientType      the client's class
     * @param allowedOptions  the options that may be set, passed to {@code create}, such as {@code keyPrefix}
     * @param create          builds the provider from the client and the allowed options that are set (by the
     *                        names given here)
     */
    ApplicationClient(String type, Class<C> clientType, Set<String> allowedOptions,
            BiFunction<C, Map<String, String>, LockingProvider> create) {
        this.type = type;
        this.clientType = clientType;
        this.allowedOptions = allowedOptions;
        this.create = create;
    }

    /** A customizer that applies this rule when the service is built. */
    LockingBuilderCustomizer customizer(ObjectProvider<C> clients, Environment environment,
            ConfigurableListableBeanFactory beans) {
        return builder -> apply(builder, clients.getIfUnique(), EnvironmentSettings.from(environment), beans);
    }

    private void apply(Locking.Builder builder, @Nullable C client, EnvironmentSettings settings,
            ConfigurableListableBeanFactory beans) {
        if (client == null) {
            return;
        }
        String id = "lp_" + type;
        Map<String, String> byCanonicalName = allowedOptions.stream()
                .collect(Collectors.toMap(OptionValues::canonicalName, name -> name));
        Map<String, String> given = new LinkedHashMap<>();
        for (Map.Entry<String, String> option : settings.options(type).entrySet()) {
            String name = byCanonicalName.get(OptionValues.canonicalName(option.getKey()));
            if (name == null) {
                log.info("Locking provider {} has its own options (locking.providers.{}.{}): the application's {} is"
                        + " not used", id, type, option.getKey(), clientType.getSimpleName());
                return;
            }
            given.put(name, option.getValue().trim());
        }
        builder.provider(create.apply(client, given));
        for (String name : beans.getBeanNamesForType(clientType)) {
            beans.registerDependentBean(name, SERVICE_BEAN);
        }
        log.info("Locking provider {} uses the application's {}", id, clientType.getSimpleName());
    }
}
