package dev.locking.core;

import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** A provider instance's id and options; option names are matched ignoring case, '-', '_' and '.'. */
final class DefaultProviderConfig implements ProviderConfig {
    private final String id;
    private final Map<String, String> options;
    private final Map<String, String> byNormalizedName;

    DefaultProviderConfig(String id, Map<String, String> options) {
        this.id = id;
        this.options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
        Map<String, String> normalized = new LinkedHashMap<>();
        options.forEach((name, value) -> normalized.put(OptionValues.canonicalName(name), value));
        this.byNormalizedName = normalized;
    }


    @Override
    public String id() {
        return id;
    }

    @Override
    public Optional<String> option(String name) {
        return Optional.ofNullable(byNormalizedName.get(OptionValues.canonicalName(name)));
    }

    @Override
    public Map<String, String> options() {
        return options;
    }

    @Override
    public String toString() {
        // Option values may hold secrets: only their names are shown.
        return "ProviderConfig[" + id + ", options=" + options.keySet() + "]";
    }
}
