package dev.locking.core;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderNotFoundException;
import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Discovers provider factories, creates every configured provider instance and picks the default one.
 * Runs once per service, when it is built.
 */
final class ProviderSetup {
    private static final Logger log = LoggerFactory.getLogger(ProviderSetup.class);

    static final String MEMORY_ID = "lp_memory";
    static final String ID_PREFIX = "lp_";
    private static final String README = "README.md#providers";

    final Map<String, LockingProvider> providers;
    final String defaultId;

    private ProviderSetup(Map<String, LockingProvider> providers, String defaultId) {
        this.providers = providers;
        this.defaultId = defaultId;
    }

    /**
     * Creates the providers.
     *
     * @param settings  every source's settings, builder included
     * @param instances ready-made providers registered on the builder, by id; they replace any other
     *                  instance of the same id
     */
    static ProviderSetup create(ClassLoader loader, Settings settings, Map<String, LockingProvider> instances) {
        Map<String, LockingProviderFactory> factories = discover(loader);
        Map<String, LockingProvider> providers = new TreeMap<>();
        Map<String, String> descriptions = new TreeMap<>();

        Map<String, Map<String, String>> configured = new TreeMap<>();
        factories.keySet().forEach(type -> configured.put(type, new LinkedHashMap<>()));
        configured.putAll(settings.instances());

        configured.forEach((name, options) -> {
            String id = ID_PREFIX + name;
            if (instances.containsKey(id)) {
                return;
            }
            Map<String, String> providerOptions = new LinkedHashMap<>(options);
            String typeOption = providerOptions.remove("type");
            String type = typeOption == null ? name : typeOption;
            LockingProviderFactory factory = factories.get(type);
            if (factory == null) {
                String reason = "no provider of type \"" + type + "\" is on the classpath (known types: "
                        + factories.keySet() + "); add its jar or fix locking.providers." + name + ".type";
                log.warn("Locking provider {} is unavailable: {}", id, reason);
                providers.put(id, new FailedProvider(id, reason, null));
                descriptions.put(id, "unavailable, " + reason);
                return;
            }
            providers.put(id, instantiate(factory, new DefaultProviderConfig(id, providerOptions)));
            descriptions.put(id, describe(type, factory));
        });
        instances.forEach((id, provider) -> {
            providers.put(id, provider);
            descriptions.put(id, "instance of " + provider.getClass().getName());
        });

        String defaultId = chooseDefault(settings.defaultProvider(), providers.keySet(), descriptions);
        return new ProviderSetup(providers, defaultId);
    }

    /** Loads every factory; one that fails to load is logged and skipped, so it hides no other. */
    private static Map<String, LockingProviderFactory> discover(ClassLoader loader) {
        Map<String, LockingProviderFactory> byType = new TreeMap<>();
        Iterator<LockingProviderFactory> it = ServiceLoader.load(LockingProviderFactory.class, loader).iterator();
        while (true) {
            LockingProviderFactory factory;
            try {
                if (!it.hasNext()) {
                    break;
                }
                factory = it.next();
            } catch (ServiceConfigurationError e) {
                log.warn("A locking provider jar failed to load and is skipped: {}. See {}", e.getMessage(),
                        README, e);
                continue;
            }
            register(byType, factory);
        }
        if (!byType.containsKey("memory")) {
            // The embedded default must exist even when service files were lost (e.g. a badly shaded jar).
            register(byType, new MemoryProviderFactory());
        }
        return byType;
    }

    private static void register(Map<String, LockingProviderFactory> byType, LockingProviderFactory factory) {
        String type = factory.type();
        LockingProviderFactory other = byType.putIfAbsent(type, factory);
        if (other != null && other.getClass() != factory.getClass()) {
            throw new LockingException("Two locking provider jars claim type \"" + type + "\": "
                    + describe(type, other) + " and " + describe(type, factory)
                    + ". Remove one from the classpath. See " + README);
        }
    }

    private static LockingProvider instantiate(LockingProviderFactory factory, DefaultProviderConfig config) {
        String id = config.id();
        try {
            checkOptions(factory, config);
            LockingProvider provider = factory.create(config);
            if (!id.equals(provider.id())) {
                String reason = factory.getClass().getName() + " created a provider with id \"" + provider.id()
                        + "\" instead of \"" + id + "\"";
                log.warn("Locking provider {} is unavailable: {}", id, reason);
                provider.close();
                return new FailedProvider(id, reason, null);
            }
            return provider;
        } catch (IllegalArgumentException e) {
            return unavailable(id, e);
        } catch (RuntimeException | LinkageError e) {
            String reason = "its factory " + factory.getClass().getName() + " failed: " + e;
            log.warn("Locking provider {} is unavailable: {}. See {}", id, reason, README, e);
            return new FailedProvider(id, reason, e);
        }
    }

    /** A bad option value, found by the core or the factory: the one rule for every provider. */
    private static LockingProvider unavailable(String id, IllegalArgumentException e) {
        String reason = "bad option value: " + e.getMessage();
        log.warn("Locking provider {} is unavailable: {}. See {}", id, reason, README);
        return new FailedProvider(id, reason, e);
    }

    /**
     * For a factory that declares its options: warns once about each option it does not declare, in one
     * wording for every provider, and checks the format of each declared value.
     *
     * @throws IllegalArgumentException naming the option whose value has the wrong format
     */
    private static void checkOptions(LockingProviderFactory factory, DefaultProviderConfig config) {
        Optional<List<ProviderOption>> declared = factory.options();
        if (declared.isEmpty()) {
            return;
        }
        Map<String, ProviderOption> byName = new LinkedHashMap<>();
        Set<String> names = new TreeSet<>();
        for (ProviderOption option : declared.get()) {
            byName.put(OptionValues.canonicalName(option.name()), option);
            names.add(option.name());
        }
        config.options().forEach((name, value) -> {
            ProviderOption option = byName.get(OptionValues.canonicalName(name));
            if (option == null) {
                log.warn("Locking provider {}: unknown option \"{}\" is ignored; the options of type {} are {}",
                        config.id(), name, factory.type(), names);
            } else if (!value.isBlank()) {
                option.check(value);
            }
        });
    }

    private static String chooseDefault(@Nullable String configured, Set<String> ids,
            Map<String, String> descriptions) {
        List<String> others = new ArrayList<>(new TreeSet<>(ids));
        others.remove(MEMORY_ID);
        String chosen;
        String reason;
        if (configured != null) {
            if (!ids.contains(configured)) {
                throw new ProviderNotFoundException(configured, ids);
            }
            chosen = configured;
            reason = "set by locking.default";
        } else if (others.size() == 1) {
            chosen = others.get(0);
            reason = "the only provider besides " + MEMORY_ID;
        } else {
            chosen = MEMORY_ID;
            reason = others.isEmpty() ? "no other provider is configured" : "locking.default is not set";
        }
        StringBuilder found = new StringBuilder();
        descriptions.forEach((id, description) ->
                found.append(found.length() == 0 ? "" : "; ").append(id).append(" (").append(description).append(')'));
        log.info("Locking providers: {}. Default: {}, {}", found, chosen, reason);
        // Only a fallback the core made by itself is worth a warning: an explicit choice of lp_memory is the
        // user's (tests, a single-process deployment) and was already logged at INFO.
        if (configured == null && chosen.equals(MEMORY_ID) && !others.isEmpty()) {
            log.warn("The default locking provider is {} although {} are configured: an in-memory lock does not"
                    + " exclude other processes. Set locking.default to choose one. See {}", MEMORY_ID, others, README);
        }
        return chosen;
    }

    private static String describe(String type, LockingProviderFactory factory) {
        Package p = factory.getClass().getPackage();
        String title = p == null ? null : p.getImplementationTitle();
        String version = p == null ? null : p.getImplementationVersion();
        return "type " + type + ", " + factory.getClass().getName()
                + (title == null ? "" : ", " + title + (version == null ? "" : " " + version));
    }
}
