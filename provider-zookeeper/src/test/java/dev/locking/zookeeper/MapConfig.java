package dev.locking.zookeeper;

import dev.locking.spi.ProviderConfig;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** A {@link ProviderConfig} over a map, matching option names the way the core does. */
record MapConfig(String id, Map<String, String> options) implements ProviderConfig {
    MapConfig {
        options = Map.copyOf(options);
    }

    @Override
    public Optional<String> option(String name) {
        String wanted = normalise(name);
        return options.entrySet().stream()
                .filter(e -> normalise(e.getKey()).equals(wanted))
                .map(Map.Entry::getValue)
                .findFirst();
    }

    private static String normalise(String name) {
        return name.replace("-", "").replace("_", "").replace(".", "").toLowerCase(Locale.ROOT);
    }
}
