package dev.locking.spi;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The id and options of one provider instance, handed to {@link LockingProviderFactory#create}.
 *
 * <p>Options come from {@code locking.providers.<name>.<option>} in {@code locking.properties},
 * environment variables ({@code LOCKING_PROVIDERS_<NAME>_<OPTION>}) and system properties, and from
 * {@code Locking.builder()}. Option names are matched ignoring case, {@code -}, {@code _} and {@code .},
 * so {@code connectTimeout} also finds {@code CONNECT_TIMEOUT} from the environment.
 *
 * @since 0.1.0
 */
public interface ProviderConfig {

    /**
     * Returns the instance id, such as {@code lp_redis} or {@code lp_orders}.
     *
     * @return the id
     */
    String id();

    /**
     * Returns one option.
     *
     * @param name the option name, such as {@code address}
     * @return the value, or empty when not set
     */
    Optional<String> option(String name);

    /**
     * Returns every option of this instance (without {@code type}).
     *
     * @return an unmodifiable map from option name to value
     */
    Map<String, String> options();

    /**
     * Returns one option as a positive duration, parsed by {@link OptionValues#duration(String, String)}
     * ({@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h}, plain milliseconds, or ISO-8601 such as {@code PT5S}).
     *
     * @param name the option name, such as {@code connectTimeout}
     * @return the duration, or empty when the option is not set
     * @throws IllegalArgumentException if the value is not a positive duration; the message names the option
     */
    default Optional<Duration> durationOption(String name) {
        return option(name).map(value -> OptionValues.duration(name, value));
    }
}
