package dev.locking.hazelcast;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Where a provider instance gets its {@link HazelcastInstance} on first use: a member or client it
 * starts (and owns: it shuts it down on close, and starts a new one if it stopped), or an instance the
 * application handed over (borrowed: never started, restarted or shut down by the provider).
 */
final class InstanceSource {

    private static final String LOGGING_TYPE = "hazelcast.logging.type";

    private final Supplier<HazelcastInstance> starter;
    private final boolean owned;
    private final String description;

    private InstanceSource(Supplier<HazelcastInstance> starter, boolean owned, String description) {
        this.starter = starter;
        this.owned = owned;
        this.description = description;
    }

    /** An embedded member; the supplier builds a new configuration for every start. */
    static InstanceSource member(Supplier<Config> config, String description) {
        return new InstanceSource(() -> {
            Config built = config.get();
            routeStaticLogging(built.getProperty(LOGGING_TYPE));
            return Hazelcast.newHazelcastInstance(built);
        }, true, description);
    }

    /** A client; the supplier builds a new configuration for every start. */
    static InstanceSource client(Supplier<ClientConfig> config, String description) {
        return new InstanceSource(() -> {
            ClientConfig built = config.get();
            routeStaticLogging(built.getProperty(LOGGING_TYPE));
            return HazelcastClient.newHazelcastClient(built);
        }, true, description);
    }

    /**
     * Hazelcast logs a few lines before an instance reads its configuration, through a logger chosen by
     * the {@code hazelcast.logging.type} system property (java.util.logging when unset). When that property
     * is unset, set it to the type the configuration asks for, so those lines go the same way.
     */
    private static void routeStaticLogging(@Nullable String type) {
        if (type != null && System.getProperty(LOGGING_TYPE) == null) {
            System.setProperty(LOGGING_TYPE, type);
        }
    }

    /** An instance the application owns. */
    static InstanceSource borrowed(HazelcastInstance instance) {
        return new InstanceSource(() -> instance, false, "Hazelcast instance " + instance.getName());
    }

    /**
     * Starts (or, when borrowed, returns) the instance. Starting a client blocks until it has connected
     * or its cluster connect timeout has passed.
     *
     * @throws RuntimeException whatever Hazelcast throws when it cannot start or connect
     */
    HazelcastInstance start() {
        return starter.get();
    }

    /** Whether the provider started the instance, and so shuts it down and may start it again. */
    boolean owned() {
        return owned;
    }

    @Override
    public String toString() {
        return description;
    }
}
