package dev.locking.postgres;

import dev.locking.spi.ProviderConfig;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** A {@link ProviderConfig} for tests, matching option names the way the core does (case, -, _ and .). */
record TestConfig(String id, Map<String, String> options) implements ProviderConfig {
    TestConfig {
        options = Map.copyOf(options);
    }

    static TestConfig of(String id, String... nameValuePairs) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < nameValuePairs.length; i += 2) {
            options.put(nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return new TestConfig(id, options);
    }

    @Override
    public Optional<String> option(String name) {
        String wanted = normalize(name);
        return options.entrySet().stream()
                .filter(e -> normalize(e.getKey()).equals(wanted))
                .map(Map.Entry::getValue)
                .findFirst();
    }

    private static String normalize(String name) {
        return name.replace("-", "").replace("_", "").replace(".", "").toLowerCase(Locale.ROOT);
    }
}
