package dev.locking.core;

import dev.locking.spi.OptionValues;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The {@code locking.*} settings from every source, later sources winning: {@code locking.properties} on
 * the classpath, environment variables, system properties, then what the builder set.
 *
 * <p>Provider options are kept per instance name with their option names normalized (case, '-', '_'
 * and '.' ignored), so {@code LOCKING_PROVIDERS_REDIS_CONNECT_TIMEOUT} overrides
 * {@code locking.providers.redis.connectTimeout}.
 */
final class Settings {
    static final String PREFIX = "locking.";
    static final String DEFAULT_KEY = "locking.default";
    static final String PROVIDERS_PREFIX = "locking.providers.";
    static final String PROPERTIES_RESOURCE = "locking.properties";

    private @Nullable String defaultProvider;
    /** instance name -> (normalized option name -> [option name, value]). */
    private final Map<String, Map<String, String[]>> instances = new TreeMap<>();

    /** Reads the classpath file, the environment and the system properties, in that order. */
    static Settings read(ClassLoader loader, Map<String, String> environment, Properties systemProperties) {
        Settings settings = new Settings();
        URL resource = loader.getResource(PROPERTIES_RESOURCE);
        if (resource != null) {
            Properties file = new Properties();
            try (InputStream in = resource.openStream()) {
                file.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read " + resource, e);
            }
            settings.putAll(file);
        }
        new TreeMap<>(environment).forEach(settings::putEnvironment);
        settings.putAll(systemProperties);
        return settings;
    }

    private void putAll(Properties properties) {
        for (String name : new TreeSet<>(properties.stringPropertyNames())) {
            String value = properties.getProperty(name);
            if (value != null) {
                put(name, value);
            }
        }
    }

    /** {@code LOCKING_DEFAULT} and {@code LOCKING_PROVIDERS_<NAME>_<OPTION>}; other variables are ignored. */
    private void putEnvironment(String variable, String value) {
        if (variable.equals("LOCKING_DEFAULT")) {
            defaultProvider = value.trim();
            return;
        }
        String prefix = "LOCKING_PROVIDERS_";
        if (!variable.startsWith(prefix)) {
            return;
        }
        String rest = variable.substring(prefix.length());
        int split = rest.indexOf('_');
        if (split <= 0 || split == rest.length() - 1) {
            return;
        }
        option(rest.substring(0, split).toLowerCase(Locale.ROOT), rest.substring(split + 1).toLowerCase(Locale.ROOT),
                value);
    }

    /** Takes one {@code locking.*} property; other names are ignored. */
    void put(String name, String value) {
        if (name.equals(DEFAULT_KEY)) {
            defaultProvider = value.trim();
        } else if (name.startsWith(PROVIDERS_PREFIX)) {
            String rest = name.substring(PROVIDERS_PREFIX.length());
            int dot = rest.indexOf('.');
            if (dot <= 0 || dot == rest.length() - 1) {
                throw new IllegalArgumentException("Setting \"" + name
                        + "\" should be locking.providers.<name>.<option>");
            }
            option(rest.substring(0, dot), rest.substring(dot + 1), value);
        }
    }

    void option(String instance, String option, String value) {
        instances.computeIfAbsent(instance, k -> new LinkedHashMap<>())
                .put(OptionValues.canonicalName(option), new String[] {option, value.trim()});
    }

    void defaultProvider(String providerId) {
        this.defaultProvider = providerId;
    }

    @Nullable String defaultProvider() {
        String d = defaultProvider;
        return d == null || d.isEmpty() ? null : d;
    }

    /** Instance name -> its options (original names), including {@code type} when set. */
    Map<String, Map<String, String>> instances() {
        Map<String, Map<String, String>> result = new TreeMap<>();
        instances.forEach((name, options) -> {
            Map<String, String> plain = new LinkedHashMap<>();
            options.values().forEach(pair -> plain.put(pair[0], pair[1]));
            result.put(name, plain);
        });
        return result;
    }
}
