package dev.locking.core;

import dev.locking.api.LockingListener;
import dev.locking.api.LockingService;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link LockingService}: discovers the providers on the classpath, reads configuration and
 * picks the default provider.
 *
 * <pre>{@code
 * try (LockingService locking = Locking.create()) {
 *     locking.execute("order:17", lock -> ship(17));
 * }
 * }</pre>
 *
 * <h2>Configuration</h2>
 * Read from, later sources winning: {@code locking.properties} on the classpath, environment variables,
 * Java system properties, then what the builder sets.
 * <pre>{@code
 * locking.default=lp_redis
 * locking.providers.redis.address=redis://127.0.0.1:6379   # instance "redis" -> id lp_redis
 * locking.providers.orders.type=redis                       # a second instance -> id lp_orders
 * locking.providers.orders.address=redis://10.0.0.5:6379
 * }</pre>
 * As environment variables: {@code LOCKING_DEFAULT}, {@code LOCKING_PROVIDERS_<NAME>_<OPTION>} (the name
 * is the part up to the next underscore, so an instance configured this way has no underscore in its
 * name; the option is matched ignoring case and underscores: {@code CONNECT_TIMEOUT} sets
 * {@code connectTimeout}).
 *
 * <h2>Providers and the default</h2>
 * Every provider jar on the classpath is available as {@code lp_<type>} with its default options;
 * {@code lp_memory} is always there. The default provider is {@code locking.default} when set (a name that
 * is not configured fails the build with {@code ProviderNotFoundException}); otherwise the only provider
 * other than {@code lp_memory} when there is exactly one; otherwise {@code lp_memory}, with a warning when
 * distributed providers are present, since an in-memory lock does not exclude other processes (no warning
 * when {@code lp_memory} was chosen explicitly, by {@code locking.default} or {@link Builder#defaultProvider}).
 *
 * <h2>Failures while building</h2>
 * A provider whose factory throws, or one of whose declared options has a value of the wrong format, does
 * not fail the build: its id answers every call with a {@code ProviderUnavailableException} naming the
 * cause (the option, the value and what was expected), and the failure is logged once at WARN. An option
 * that a provider does not declare is ignored with one WARN, in the same words for every provider (see
 * {@link dev.locking.spi.LockingProviderFactory#options()}). A provider factory must not connect, so
 * building never waits for a backend.
 *
 * @since 0.1.0
 */
public final class Locking {
    private Locking() {}

    /**
     * Builds a service from the classpath and the configuration sources alone.
     *
     * @return a new service; close it on shutdown
     * @throws dev.locking.api.ProviderNotFoundException if {@code locking.default} names no configured provider
     */
    public static LockingService create() {
        return builder().build();
    }

    /**
     * Starts a builder that reads the same sources as {@link #create()}; what it sets wins over them.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds a {@link LockingService}. Not thread-safe. Each {@link #build()} creates new provider instances
     * (except those registered with {@link #provider(LockingProvider)}, which are used as they are).
     */
    public static final class Builder {
        private final Settings overrides = new Settings();
        private final Map<String, LockingProvider> instances = new LinkedHashMap<>();
        private final Map<String, String> namedInBuilder = new LinkedHashMap<>();
        private final List<LockingListener> listeners = new ArrayList<>();
        private @Nullable String defaultProvider;
        private @Nullable ClassLoader classLoader;
        private @Nullable Map<String, String> environment;
        private @Nullable Properties systemProperties;
        private LockingClock clock = LockingClock.SYSTEM;
        private Duration waitSlice = WaitLoop.WAIT_SLICE;

        private Builder() {}

        /**
         * Sets one option of a provider instance, as {@code locking.providers.<name>.<option>} would.
         *
         * @param providerId the instance id, such as {@code lp_redis}
         * @param name       the option name, such as {@code address}
         * @param value      the value
         * @return this builder
         * @throws IllegalArgumentException if the id does not start with {@code lp_} or a value is null
         */
        public Builder option(String providerId, String name, String value) {
            String instance = instanceName(providerId);
            requireText(name, "option name");
            if (value == null) {
                throw new IllegalArgumentException("value of option " + name + " of " + providerId + " must not be null");
            }
            overrides.option(instance, name, value);
            return this;
        }

        /**
         * Declares a provider instance of a type with its options, such as a second Redis provider.
         *
         * @param providerId the new instance's id, such as {@code lp_orders}
         * @param type       the provider type, such as {@code redis}
         * @param options    its options
         * @return this builder
         * @throws IllegalArgumentException if the id does not start with {@code lp_}, or it was already
         *                                  declared on this builder
         */
        public Builder provider(String providerId, String type, Map<String, String> options) {
            String instance = instanceName(providerId);
            requireText(type, "type");
            if (options == null) {
                throw new IllegalArgumentException("options of " + providerId + " must not be null");
            }
            claim(providerId, "provider(\"" + providerId + "\", \"" + type + "\", ...)");
            overrides.option(instance, "type", type);
            options.forEach((name, value) -> overrides.option(instance, name, value));
            return this;
        }

        /**
         * Registers a ready-made provider under its own {@link LockingProvider#id() id}. It replaces a
         * discovered or configured provider of the same id. The service closes it when it is closed.
         *
         * @param provider the provider
         * @return this builder
         * @throws IllegalArgumentException if another provider with the same id was registered on this builder
         */
        public Builder provider(LockingProvider provider) {
            if (provider == null) {
                throw new IllegalArgumentException("provider must not be null");
            }
            String id = requireText(provider.id(), "provider id");
            claim(id, "provider(" + provider.getClass().getName() + ")");
            instances.put(id, provider);
            return this;
        }

        /**
         * Sets the default provider, overriding {@code locking.default}.
         *
         * @param providerId such as {@code lp_redis}
         * @return this builder
         */
        public Builder defaultProvider(String providerId) {
            this.defaultProvider = requireText(providerId, "default provider id");
            return this;
        }

        /**
         * Registers a listener that hears every operation of the service, for metrics or tracing (see
         * {@link LockingListener}). Listeners listed in {@code META-INF/services/dev.locking.api.LockingListener}
         * are found as well, and called after those registered here. Without any, operations pay nothing for it.
         *
         * @param listener the listener
         * @return this builder
         * @throws IllegalArgumentException if the listener is null
         * @since 0.2.0
         */
        public Builder listener(LockingListener listener) {
            if (listener == null) {
                throw new IllegalArgumentException("listener must not be null");
            }
            listeners.add(listener);
            return this;
        }

        /**
         * Sets the class loader used to find provider jars and {@code locking.properties}; by default the
         * thread's context class loader, or this library's.
         *
         * @param classLoader the class loader
         * @return this builder
         */
        public Builder classLoader(ClassLoader classLoader) {
            if (classLoader == null) {
                throw new IllegalArgumentException("classLoader must not be null");
            }
            this.classLoader = classLoader;
            return this;
        }

        /** For tests: the environment variables to read instead of the process's. */
        Builder environment(Map<String, String> environment) {
            this.environment = Map.copyOf(environment);
            return this;
        }

        /** For tests: the system properties to read instead of the JVM's. */
        Builder systemProperties(Properties properties) {
            Properties copy = new Properties();
            copy.putAll(properties);
            this.systemProperties = copy;
            return this;
        }

        /**
         * For tests: the longest single wait before trying again (default 2 s). A long slice makes a lost
         * wake-up show as a hang instead of a delay.
         */
        Builder waitSlice(Duration slice) {
            this.waitSlice = slice;
            return this;
        }

        /** For tests: the clock the service waits and renews by. */
        Builder clock(LockingClock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * Discovers the providers, creates them (none connects yet) and returns the service.
         *
         * @return a new service; close it on shutdown
         * @throws dev.locking.api.ProviderNotFoundException if the default provider is not configured
         * @throws dev.locking.api.LockingException          if two provider jars claim the same type
         */
        public LockingService build() {
            ClassLoader loader = classLoader;
            if (loader == null) {
                loader = Thread.currentThread().getContextClassLoader();
            }
            if (loader == null) {
                loader = Locking.class.getClassLoader();
            }
            Map<String, String> env = environment == null ? System.getenv() : environment;
            Properties props = systemProperties == null ? System.getProperties() : systemProperties;
            Settings settings = Settings.read(loader, env, props);
            overrides.instances().forEach((name, options) ->
                    options.forEach((option, value) -> settings.option(name, option, value)));
            String chosenDefault = defaultProvider;
            if (chosenDefault != null) {
                settings.defaultProvider(chosenDefault);
            }
            ProviderSetup setup = ProviderSetup.create(loader, settings, instances);
            return new DefaultLockingService(setup.providers, setup.defaultId, clock, waitSlice,
                    Listeners.of(listeners, loader));
        }

        private void claim(String id, String what) {
            String previous = namedInBuilder.putIfAbsent(id, what);
            if (previous != null) {
                throw new IllegalArgumentException("Duplicate provider id \"" + id + "\": " + previous + " and " + what);
            }
        }

        private static String instanceName(String providerId) {
            requireText(providerId, "provider id");
            if (!providerId.startsWith(ProviderSetup.ID_PREFIX) || providerId.length() == ProviderSetup.ID_PREFIX.length()) {
                throw new IllegalArgumentException("provider id must look like lp_<name>: \"" + providerId + "\"");
            }
            return providerId.substring(ProviderSetup.ID_PREFIX.length());
        }

        private static String requireText(@Nullable String value, String what) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(what + " must not be null or blank");
            }
            return value;
        }
    }
}
