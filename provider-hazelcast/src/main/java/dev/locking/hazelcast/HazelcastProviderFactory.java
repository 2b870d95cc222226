package dev.locking.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Creates {@code lp_hazelcast} providers: locks kept in an open-source Hazelcast {@code IMap}, through an
 * embedded member or as a client of a cluster. Found through {@link java.util.ServiceLoader}.
 *
 * <h2>Options</h2>
 * <table>
 *   <caption>Options of {@code locking.providers.<name>.<option>}</caption>
 *   <tr><th>option</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code members}</td><td>comma-separated {@code host:port} addresses of cluster members;
 *       the provider connects as a client</td><td>none: the provider starts an embedded member</td></tr>
 *   <tr><td>{@code clusterName}</td><td>the cluster's name</td><td>{@code dev} (Hazelcast's default)
 *       for a client, {@code locking} for the embedded member</td></tr>
 *   <tr><td>{@code mapName}</td><td>the lock map (an entry per key locked now)</td>
 *       <td>{@code locking}</td></tr>
 *   <tr><td>{@code config}</td><td>path of a Hazelcast XML or YAML file, client
 *       ({@code hazelcast-client}) or member ({@code hazelcast}) configuration, used as it is; it
 *       cannot be combined with {@code members} or {@code clusterName}</td><td>none</td></tr>
 *   <tr><td>{@code connectTimeout}</td><td>how long a client tries to reach its cluster before a call
 *       fails</td><td>5 s</td></tr>
 *   <tr><td>{@code operationTimeout}</td><td>the longest one lock operation waits for Hazelcast's answer
 *       </td><td>5 s</td></tr>
 * </table>
 * Durations are ISO-8601 ({@code PT5S}), milliseconds ({@code 5000}) or {@code 5s}/{@code 500ms}.
 * With none of {@code members}, {@code clusterName} and {@code config}, the provider starts an embedded
 * member that joins nobody: multicast, TCP/IP and auto-detection joining are off and it listens on the
 * loopback interface only, so it forms a one-member cluster of its own. It logs through SLF4J and does not
 * phone home.
 *
 * <h2>Nothing starts before first use</h2>
 * {@link #create} only reads options (and parses the {@code config} file). The member or client starts on
 * the provider's first call; a client that lost its cluster for longer than {@code connectTimeout} is
 * replaced by a new one on the next call. {@code close()} shuts down what the provider started.
 *
 * <h2>Members need this jar</h2>
 * The lock operations are entry processors that run on the members. A client's members must have
 * {@code locking-provider-hazelcast} on their classpath (it needs nothing else from Locking); otherwise
 * every call fails with a {@link dev.locking.api.LockingException} that says so.
 *
 * @since 0.1.0
 */
public final class HazelcastProviderFactory implements LockingProviderFactory {

    /** The provider type; the default instance's id is {@code lp_hazelcast}. */
    public static final String TYPE = "hazelcast";

    /** The lock map's name when none is given. */
    public static final String DEFAULT_MAP_NAME = HazelcastSettings.DEFAULT_MAP_NAME;

    /** Creates the factory; {@link java.util.ServiceLoader} calls this. */
    public HazelcastProviderFactory() {}

    @Override
    public String type() {
        return TYPE;
    }

    /**
     * Declares the options in the table above, with their formats; the core warns about any other option.
     *
     * @return the options of {@code lp_hazelcast}
     */
    @Override
    public Optional<List<ProviderOption>> options() {
        return Optional.of(HazelcastSettings.OPTIONS);
    }

    /**
     * Creates a provider from its options, without starting or connecting anything.
     *
     * @throws IllegalArgumentException if an option cannot be used; the message names it
     */
    @Override
    public LockingProvider create(ProviderConfig config) {
        HazelcastSettings settings = HazelcastSettings.from(config);
        return new HazelcastLockingProvider(config.id(), settings.source, settings.mapName,
                settings.operationTimeout);
    }

    /**
     * Creates a provider on a Hazelcast instance (member or client) the application already has, using
     * the map {@value #DEFAULT_MAP_NAME}. Register it with {@code Locking.builder().provider(...)}.
     *
     * @param id       the provider id, such as {@code lp_hazelcast}
     * @param instance the instance; the provider never shuts it down
     * @return a provider that touches the instance only on first use
     */
    public static LockingProvider fromInstance(String id, HazelcastInstance instance) {
        return fromInstance(id, instance, DEFAULT_MAP_NAME);
    }

    /**
     * Creates a provider on a Hazelcast instance (member or client) the application already has.
     *
     * <p>The provider adds an index on {@code owner} to the map at its first {@code releaseAll(owner)}, and
     * one entry listener at its first wait; {@code close()} removes the listener and leaves the instance
     * running. If the instance is a client, its members need this jar on their classpath. Calls wait at most
     * 5 s for an answer (a member's calls on keys it owns itself wait for Hazelcast's backup acknowledgements
     * instead).
     *
     * @param id       the provider id, such as {@code lp_hazelcast}
     * @param instance the instance; the provider never shuts it down
     * @param mapName  the lock map (an entry per key locked now)
     * @return a provider that touches the instance only on first use
     * @throws IllegalArgumentException if the id or map name is blank
     */
    public static LockingProvider fromInstance(String id, HazelcastInstance instance, String mapName) {
        Objects.requireNonNull(instance, "instance");
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank");
        }
        return new HazelcastLockingProvider(id, InstanceSource.borrowed(instance), HazelcastSettings.mapName(mapName),
                HazelcastSettings.DEFAULT_OPERATION_TIMEOUT);
    }
}
