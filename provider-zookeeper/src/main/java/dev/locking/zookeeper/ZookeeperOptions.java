package dev.locking.zookeeper;

import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.apache.zookeeper.client.ConnectStringParser;
import org.apache.zookeeper.common.PathUtils;
import org.jspecify.annotations.Nullable;

/**
 * The options of one {@code lp_zookeeper} instance, parsed and checked when the provider is created.
 *
 * @param connectString     ZooKeeper's connect string, such as {@code zk1:2181,zk2:2181/chroot}
 * @param namespace         the node under which this provider keeps its nodes, without a leading slash
 * @param sessionTimeout    the session timeout the client asks for (the server may clamp it)
 * @param connectionTimeout how long a call waits for a connection before it fails
 * @param auth              digest credentials {@code user:password}, or {@code null}; never logged
 */
record ZookeeperOptions(
        String connectString,
        String namespace,
        Duration sessionTimeout,
        Duration connectionTimeout,
        @Nullable String auth) {

    static final String DEFAULT_CONNECT_STRING = "127.0.0.1:2181";
    static final String DEFAULT_NAMESPACE = "locking";
    static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(15);
    static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(5);

    /** Every option this provider reads, with its format; the core warns about any other option. */
    static final List<ProviderOption> OPTIONS = List.of(ProviderOption.string("connectString"),
            ProviderOption.string("namespace"), ProviderOption.duration("sessionTimeout"),
            ProviderOption.duration("connectionTimeout"), ProviderOption.string("auth"));

    /** Never prints the credentials. */
    @Override
    public String toString() {
        return "ZookeeperOptions[servers=" + serverCount() + ", namespace=/" + namespace + ", sessionTimeout="
                + sessionTimeout + ", connectionTimeout=" + connectionTimeout + ", auth="
                + (auth == null ? "none" : "digest") + "]";
    }

    /** How many servers the connect string names (logged instead of the connect string itself). */
    int serverCount() {
        return new ConnectStringParser(connectString).getServerAddresses().size();
    }

    static ZookeeperOptions from(ProviderConfig config) {
        String id = config.id();
        String connectString = config.option("connectString").map(String::trim).orElse(DEFAULT_CONNECT_STRING);
        checkConnectString(connectString, id);
        String namespace = checkNamespace(config.option("namespace").orElse(DEFAULT_NAMESPACE), id);
        checkNotNested(new ConnectStringParser(connectString).getChrootPath(), namespace, id);
        Duration session = config.option("sessionTimeout")
                .map(v -> parseDuration("sessionTimeout", v, id))
                .orElse(DEFAULT_SESSION_TIMEOUT);
        Duration connection = config.option("connectionTimeout")
                .map(v -> parseDuration("connectionTimeout", v, id))
                .orElse(DEFAULT_CONNECTION_TIMEOUT);
        String auth = config.option("auth").orElse(null);
        if (auth != null) {
            int colon = auth.indexOf(':');
            if (colon <= 0 || colon == auth.length() - 1) {
                // The value is deliberately left out: it is a password.
                throw new IllegalArgumentException("auth must be digest credentials of the form user:password,"
                        + " with a non-empty user and password (provider " + id + ")");
            }
        }
        return new ZookeeperOptions(connectString, namespace, session, connection, auth);
    }

    static String checkNamespace(String value, String id) {
        String ns = value.trim();
        while (ns.startsWith("/")) {
            ns = ns.substring(1);
        }
        if (ns.isEmpty() || ns.endsWith("/")) {
            throw new IllegalArgumentException("namespace must be a ZooKeeper path such as locking or apps/locking: \""
                    + value + "\" (provider " + id + ")");
        }
        try {
            PathUtils.validatePath("/" + ns);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("namespace must be a ZooKeeper path such as locking or apps/locking: \""
                    + value + "\" (" + e.getMessage() + "; provider " + id + ")", e);
        }
        if (ns.equals("zookeeper") || ns.startsWith("zookeeper/")) {
            throw new IllegalArgumentException(
                    "namespace must not be under /zookeeper, which ZooKeeper reserves: \"" + value + "\" (provider "
                            + id + ")");
        }
        return ns;
    }

    /**
     * The names of the nodes a provider keeps directly under its namespace. A namespace path with one of them
     * as a segment after its first could lie inside another namespace's bookkeeping ({@code apps} and
     * {@code apps/locks}: the inner one's nodes would be children of the outer one's {@code /apps/locks}, so
     * the outer one would see them as locks, and the inner one's root could even be an outer lock node). No
     * such path is accepted, so two namespaces either are the same or never touch each other's nodes.
     */
    static final Set<String> RESERVED_SEGMENTS = Set.of("locks", "owners", "instances");

    /**
     * Refuses a namespace that could lie inside another namespace's nodes (see {@link #RESERVED_SEGMENTS}).
     *
     * @param chroot    the chroot of the connect string, or of the application's client; null if none
     * @param namespace the namespace, relative to the chroot, without a leading slash
     * @param id        the provider id, for the message
     */
    static void checkNotNested(@Nullable String chroot, String namespace, String id) {
        String full = (chroot == null || chroot.equals("/") ? "" : chroot) + "/" + namespace;
        String[] segments = full.substring(1).split("/");
        for (int i = 1; i < segments.length; i++) {
            if (RESERVED_SEGMENTS.contains(segments[i])) {
                throw new IllegalArgumentException("namespace must not have \"" + segments[i] + "\" as a segment"
                        + " after the first: " + full + " could lie inside the nodes of namespace "
                        + String.join("/", java.util.Arrays.asList(segments).subList(0, i)) + " (locks, owners and"
                        + " instances are the nodes a namespace keeps its locks in); choose another name (provider "
                        + id + ")");
            }
        }
    }

    private static void checkConnectString(String value, String id) {
        if (value.isEmpty()) {
            throw new IllegalArgumentException("connectString must name at least one host:port (provider " + id
                    + ")");
        }
        try {
            if (new ConnectStringParser(value).getServerAddresses().isEmpty()) {
                throw new IllegalArgumentException("no server");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("connectString must be host:port[,host:port...][/chroot]: \"" + value
                    + "\" (provider " + id + ")", e);
        }
    }

    /** Parses a positive duration (see {@link OptionValues#duration}) that fits ZooKeeper's int milliseconds. */
    static Duration parseDuration(String option, String value, String id) {
        Duration d;
        try {
            d = OptionValues.duration(option, value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + " (provider " + id + ")", e);
        }
        if (d.toMillis() > Integer.MAX_VALUE) {
            // ZooKeeper takes its timeouts as int milliseconds.
            throw new IllegalArgumentException(option + " must be below 24 days: \"" + value + "\" (provider " + id + ")");
        }
        return d;
    }
}
