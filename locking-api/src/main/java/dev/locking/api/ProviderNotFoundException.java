package dev.locking.api;

import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * Thrown when a call names a provider id that is not configured. The message lists every known id,
 * so a typo is easy to spot.
 *
 * @since 0.1.0
 */
public class ProviderNotFoundException extends LockingException {
    private static final long serialVersionUID = 1L;

    /** The id that was asked for. */
    private final String providerId;
    /** The ids that are configured. */
    private final List<String> available;

    /**
     * Creates the exception.
     *
     * @param providerId the unknown id
     * @param available  the ids that are known
     */
    public ProviderNotFoundException(String providerId, Collection<String> available) {
        super("No locking provider with id \"" + providerId + "\"; known providers: "
                + new TreeSet<>(available)
                + ". Add the provider's jar to the classpath or configure locking.providers.<name>.type"
                + " (see README, #providers)");
        this.providerId = providerId;
        this.available = List.copyOf(new TreeSet<>(available));
    }

    /**
     * Returns the id that was asked for.
     *
     * @return the unknown provider id
     */
    public String getProviderId() {
        return providerId;
    }

    /**
     * Returns the ids that are known, sorted.
     *
     * @return an unmodifiable list of provider ids
     */
    public Collection<String> getAvailable() {
        return available;
    }
}
