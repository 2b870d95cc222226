package dev.locking.zookeeper;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import dev.locking.spi.support.LockingClock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.client.ConnectStringParser;
import org.jspecify.annotations.Nullable;

/**
 * Creates {@code lp_zookeeper} providers: locks kept in Apache ZooKeeper through Apache Curator.
 *
 * <p>Found by {@link java.util.ServiceLoader} as type {@value #TYPE}, so the default instance is
 * {@code lp_zookeeper}. Creating a provider connects to nothing: the Curator client is built and started
 * on the first lock call, and that call waits at most the connection timeout for a server.
 *
 * <h2>Options</h2>
 * <table>
 *   <caption>Options of {@code locking.providers.<name>.*}</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code connectString}</td><td>{@code 127.0.0.1:2181}</td>
 *       <td>ZooKeeper servers, {@code host:port[,host:port...][/chroot]}</td></tr>
 *   <tr><td>{@code namespace}</td><td>{@code locking}</td>
 *       <td>the node under which locks are kept; two providers share locks only with the same namespace. A
 *           path with {@code locks}, {@code owners} or {@code instances} as a segment after the first
 *           (chroot included) is refused: it could lie inside another namespace's nodes</td></tr>
 *   <tr><td>{@code sessionTimeout}</td><td>{@code 15s}</td>
 *       <td>the session timeout asked for (the server clamps it between 2 and 20 ticks): how long after a
 *           crash or a network cut the locks taken by {@code execute} stay held</td></tr>
 *   <tr><td>{@code connectionTimeout}</td><td>{@code 5s}</td>
 *       <td>how long a call waits for a connection; with one retry a call fails within about twice this
 *           with {@link dev.locking.api.ProviderUnavailableException}</td></tr>
 *   <tr><td>{@code auth}</td><td>none</td>
 *       <td>digest credentials {@code user:password}: the nodes this provider creates can then be read by
 *           anyone but changed or deleted only by clients with the same credentials. Never logged</td></tr>
 * </table>
 * Durations are ISO-8601 ({@code PT15S}), a number with {@code ms}, {@code s} or {@code m}, or plain
 * milliseconds.
 *
 * <h2>With your own CuratorFramework</h2>
 * {@link #fromClient(String, CuratorFramework, String)} builds a provider on a client the application
 * already has (its connection, retry policy, authorization and ACL provider are used as they are), to
 * register with {@code Locking.builder().provider(...)}.
 *
 * @since 0.1.0
 */
public final class ZookeeperProviderFactory implements LockingProviderFactory {

    /** The provider type; the default instance's id is {@code lp_zookeeper}. */
    public static final String TYPE = "zookeeper";

    /** The namespace used when none is given: locks live under {@code /locking}. */
    public static final String DEFAULT_NAMESPACE = ZookeeperOptions.DEFAULT_NAMESPACE;

    /** Creates the factory; {@link java.util.ServiceLoader} calls this. */
    public ZookeeperProviderFactory() {}

    @Override
    public String type() {
        return TYPE;
    }

    /**
     * Declares the options in the table above, with their formats; the core warns about any other option.
     *
     * @return the options of {@code lp_zookeeper}
     */
    @Override
    public Optional<List<ProviderOption>> options() {
        return Optional.of(ZookeeperOptions.OPTIONS);
    }

    /**
     * Creates a provider with its own Curator client, started on first use and closed by
     * {@link LockingProvider#close()}.
     *
     * @param config the instance id and its options (see the class documentation)
     * @return a provider that has not connected yet
     * @throws IllegalArgumentException if an option has a value the provider cannot use; the message names
     *                                  the option and never shows the {@code auth} value
     */
    @Override
    public LockingProvider create(ProviderConfig config) {
        Objects.requireNonNull(config, "config");
        return ZookeeperLockingProvider.withOwnClient(config.id(), ZookeeperOptions.from(config), LockingClock.SYSTEM);
    }

    /**
     * Creates a provider on a Curator client the application owns, with locks under
     * {@code /locking} (relative to the client's own namespace, if it has one).
     *
     * @param id     the provider id, such as {@code lp_zookeeper}
     * @param client the client; it must be started before the first lock call
     * @return the provider; its {@code close()} leaves the client open
     * @see #fromClient(String, CuratorFramework, String)
     */
    public static LockingProvider fromClient(String id, CuratorFramework client) {
        return fromClient(id, client, DEFAULT_NAMESPACE);
    }

    /**
     * Creates a provider on a Curator client the application owns.
     *
     * <p>The provider uses the client as it is: its connection settings, retry policy, authorization and
     * {@code ACLProvider} (to protect lock nodes, configure the client with credentials and an ACL provider).
     * The provider's {@code close()} does not close the client, so the provider's ephemeral {@code execute}
     * locks live as long as the client's session. A call fails with
     * {@link dev.locking.api.ProviderUnavailableException} when the client cannot reach a server within
     * its connection timeout, and with {@link IllegalStateException} when the client was not started.
     *
     * @param id        the provider id, such as {@code lp_zookeeper}
     * @param client    the client; it must be started before the first lock call
     * @param namespace the node under which locks are kept, relative to the client's namespace, such as
     *                  {@code locking} or {@code apps/locking}
     * @return the provider; its {@code close()} leaves the client open
     * @throws IllegalArgumentException if {@code id} is blank or {@code namespace} is not a valid path, or if,
     *                                  with the client's chroot and namespace, it has {@code locks},
     *                                  {@code owners} or {@code instances} as a segment after the first (it
     *                                  could lie inside another namespace's nodes)
     */
    public static LockingProvider fromClient(String id, CuratorFramework client, String namespace) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(namespace, "namespace");
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank");
        }
        String ns = ZookeeperOptions.checkNamespace(namespace, id);
        String base = client.getNamespace();
        ZookeeperOptions.checkNotNested(chroot(client),
                base == null || base.isEmpty() ? ns : base + "/" + ns, id);
        return ZookeeperLockingProvider.withGivenClient(id, client, ns, LockingClock.SYSTEM);
    }

    /** The chroot of the client's connect string, or null if it has none or it cannot be told. */
    private static @Nullable String chroot(CuratorFramework client) {
        try {
            String connect = client.getZookeeperClient().getCurrentConnectionString();
            return connect == null ? null : new ConnectStringParser(connect).getChrootPath();
        } catch (RuntimeException e) {
            return null; // an ensemble provider that cannot tell yet: the namespace alone is checked
        }
    }
}
