package dev.locking.tck;

import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link ProviderConfig} over a map, for a provider's tests: it finds an option the way the core's own
 * configuration does ({@link OptionValues#canonicalName}: case, {@code -}, {@code _} and {@code .} do not
 * matter), so a test sees the names a user may write.
 *
 * <pre>{@code
 * LockingProvider p = new ExampleProviderFactory().create(TestConfig.of("lp_example", "url", url, "timeout", "2s"));
 * }</pre>
 *
 * <p>Concurrency: immutable.
 *
 * @param id      the provider id
 * @param options option names and values, copied
 * @since 0.2.0
 */
public record TestConfig(String id, Map<String, String> options) implements ProviderConfig {

    /**
     * Copies the options.
     *
     * @param id      the provider id
     * @param options option names and values
     */
    public TestConfig {
        options = Map.copyOf(options);
    }

    /**
     * A config from name-value pairs.
     *
     * @param id             the provider id
     * @param nameValuePairs option names and values, alternating; a last name without a value is ignored
     * @return the config
     */
    public static TestConfig of(String id, String... nameValuePairs) {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < nameValuePairs.length; i += 2) {
            options.put(nameValuePairs[i], nameValuePairs[i + 1]);
        }
        return new TestConfig(id, options);
    }

    @Override
    public Optional<String> option(String name) {
        String wanted = OptionValues.canonicalName(name);
        return options.entrySet().stream()
                .filter(e -> OptionValues.canonicalName(e.getKey()).equals(wanted))
                .map(Map.Entry::getValue)
                .findFirst();
    }
}
