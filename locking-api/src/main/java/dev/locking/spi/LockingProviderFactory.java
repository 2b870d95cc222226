package dev.locking.spi;

import java.util.List;
import java.util.Optional;

/**
 * Creates providers of one type; found with {@link java.util.ServiceLoader}.
 *
 * <p>Register the implementation in {@code META-INF/services/dev.locking.spi.LockingProviderFactory}
 * (and with {@code provides} in a {@code module-info}). It needs a public no-argument constructor.
 * The core creates one default instance per discovered type, with id {@code "lp_" + type()}, and one
 * more per named instance configured as {@code locking.providers.<name>.type=<type>}.
 *
 * @since 0.1.0
 */
public interface LockingProviderFactory {

    /**
     * Returns the provider type, such as {@code redis}: lower-case letters, digits, {@code -} and
     * {@code _}. The default instance's id is {@code "lp_" + type()}.
     *
     * @return the type name
     */
    String type();

    /**
     * Creates a provider instance. It must not connect or start anything yet: connect on first use, so
     * that building a service never blocks on a backend that is down and an unused provider costs
     * nothing.
     *
     * @param config the instance's id and options
     * @return a new provider whose {@link LockingProvider#id()} is {@code config.id()}
     * @throws IllegalArgumentException if an option has a value the provider cannot use; the message
     *                                  names the option (and never a password)
     */
    LockingProvider create(ProviderConfig config);

    /**
     * Declares every option this factory's providers read, with the format of its value. Declare them:
     * the core then warns once about each configured option that is not declared (naming the provider
     * id, the option and the declared options, in the same words for every provider), and checks every
     * declared value's format before {@link #create} is called (see {@link ProviderOption}). So the
     * factory need not warn about unknown options itself, and should not.
     *
     * <pre>{@code
     * @Override
     * public Optional<List<ProviderOption>> options() {
     *     return Optional.of(List.of(ProviderOption.string("address"), ProviderOption.duration("timeout")));
     * }
     * }</pre>
     *
     * @return the declared options (an empty list declares that there are none); empty, the default, when
     *         the factory declares nothing, and then the core checks no option of it
     * @since 0.2.0
     */
    default Optional<List<ProviderOption>> options() {
        return Optional.empty();
    }
}
