package dev.locking.spring;

import dev.locking.core.Locking;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.Environment;

/**
 * The {@code locking.*} properties as the Spring {@code Environment} resolves them: {@code application.yml}
 * and {@code .properties}, profiles, environment variables ({@code LOCKING_PROVIDERS_REDIS_ADDRESS}) and
 * system properties, with Spring's precedence and relaxed names.
 *
 * <p>The core reads {@code locking.properties}, the process environment and the system properties by itself;
 * what this class hands to the builder wins over those, so the value the application sees in its
 * {@code Environment} is the value the service uses.
 *
 * @param defaultProvider {@code locking.default}, or null when not set
 * @param providers       instance name (the part after {@code lp_}) to its options, names as written
 */
record EnvironmentSettings(@Nullable String defaultProvider, Map<String, Map<String, String>> providers) {
    static final String DEFAULT = "locking.default";
    static final String PROVIDERS = "locking.providers";
    private static final Bindable<Map<String, Map<String, String>>> PROVIDERS_TYPE = Bindable.of(
            ResolvableType.forClassWithGenerics(Map.class, ResolvableType.forClass(String.class),
                    ResolvableType.forClassWithGenerics(Map.class, String.class, String.class)));

    EnvironmentSettings {
        Map<String, Map<String, String>> copy = new TreeMap<>();
        providers.forEach((name, options) -> copy.put(name, Collections.unmodifiableMap(new TreeMap<>(options))));
        providers = Collections.unmodifiableMap(copy); // sorted, so the builder sees the options in one order
    }

    /** Binds {@code locking.default} and {@code locking.providers.<name>.<option>}. */
    static EnvironmentSettings from(Environment environment) {
        Binder binder = Binder.get(environment);
        String defaultProvider = binder.bind(DEFAULT, String.class).map(String::trim).orElse(null);
        Map<String, Map<String, String>> providers = binder.bind(PROVIDERS, PROVIDERS_TYPE).orElseGet(Map::of);
        return new EnvironmentSettings(defaultProvider == null || defaultProvider.isEmpty() ? null : defaultProvider,
                providers);
    }

    /** The options of one instance, or an empty map. */
    Map<String, String> options(String instance) {
        return providers.getOrDefault(instance, Map.of());
    }

    /** Sets every property on the builder, as {@code Locking.Builder#option} and {@code #defaultProvider}. */
    void applyTo(Locking.Builder builder) {
        providers.forEach((instance, options) ->
                options.forEach((option, value) -> builder.option("lp_" + instance, option, value)));
        String chosen = defaultProvider;
        if (chosen != null) {
            builder.defaultProvider(chosen);
        }
    }
}
