package dev.locking.hazelcast;

import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.client.config.ClientConnectionStrategyConfig.ReconnectMode;
import com.hazelcast.client.config.ConnectionRetryConfig;
import com.hazelcast.client.config.XmlClientConfigBuilder;
import com.hazelcast.client.config.YamlClientConfigBuilder;
import com.hazelcast.client.properties.ClientProperty;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.spi.properties.ClusterProperty;
import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Turns a provider's options into where its Hazelcast instance comes from, which map it uses and how long
 * a call may take. Reads files but starts and connects nothing.
 *
 * <table>
 *   <caption>Options</caption>
 *   <tr><th>option</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code members}</td><td>comma-separated {@code host:port} addresses: connect as a client</td>
 *       <td>none: an embedded member</td></tr>
 *   <tr><td>{@code clusterName}</td><td>the cluster to join (client) or to form (embedded member)</td>
 *       <td>{@code dev} for a client, {@code locking} for the embedded member</td></tr>
 *   <tr><td>{@code mapName}</td><td>the lock map (an entry per key locked now)</td>
 *       <td>{@code locking}</td></tr>
 *   <tr><td>{@code config}</td><td>a Hazelcast XML or YAML file, client or member, used as it is</td>
 *       <td>none</td></tr>
 *   <tr><td>{@code connectTimeout}</td><td>how long a client tries to reach the cluster</td><td>5 s</td></tr>
 *   <tr><td>{@code operationTimeout}</td><td>the longest a single lock operation waits for its answer</td>
 *       <td>5 s</td></tr>
 * </table>
 */
final class HazelcastSettings {

    static final String DEFAULT_MAP_NAME = "locking";
    static final String DEFAULT_EMBEDDED_CLUSTER_NAME = "locking";
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration DEFAULT_OPERATION_TIMEOUT = Duration.ofSeconds(5);

    /** Every option this provider reads, with its format; the core warns about any other option. */
    static final List<ProviderOption> OPTIONS = List.of(ProviderOption.string("members"),
            ProviderOption.string("clusterName"), ProviderOption.string("mapName"), ProviderOption.string("config"),
            ProviderOption.duration("connectTimeout"), ProviderOption.duration("operationTimeout"));
    private static final Pattern YAML_CLIENT_ROOT = Pattern.compile("(?m)^hazelcast-client\\s*:");
    /** {@code host}, {@code host:port}, {@code [v6]} or {@code [v6]:port}; the port is checked apart. */
    private static final Pattern ADDRESS = Pattern.compile("(\\[[0-9A-Fa-f:.%\\w]+]|[\\w.-]+)(?::(\\S*))?");
    /** The longest {@code connectTimeout} or {@code operationTimeout} accepted. */
    private static final Duration MAX_TIMEOUT = Duration.ofDays(1);

    final InstanceSource source;
    final String mapName;
    final Duration operationTimeout;

    private HazelcastSettings(InstanceSource source, String mapName, Duration operationTimeout) {
        this.source = source;
        this.mapName = mapName;
        this.operationTimeout = operationTimeout;
    }

    /**
     * Reads the options of one provider instance.
     *
     * @throws IllegalArgumentException naming the option whose value cannot be used
     */
    static HazelcastSettings from(ProviderConfig config) {
        Optional<String> members = nonBlank(config, "members");
        Optional<String> clusterName = nonBlank(config, "clusterName");
        Optional<String> file = nonBlank(config, "config");
        String mapName = mapName(nonBlank(config, "mapName").orElse(DEFAULT_MAP_NAME));
        Duration connectTimeout = nonBlank(config, "connectTimeout")
                .map(v -> timeout("connectTimeout", v)).orElse(DEFAULT_CONNECT_TIMEOUT);
        Duration operationTimeout = nonBlank(config, "operationTimeout")
                .map(v -> timeout("operationTimeout", v)).orElse(DEFAULT_OPERATION_TIMEOUT);

        InstanceSource source;
        if (file.isPresent()) {
            if (members.isPresent() || clusterName.isPresent()) {
                throw new IllegalArgumentException("Option config cannot be combined with members or clusterName:"
                        + " the file is used as it is, so set the addresses and the cluster name in it");
            }
            source = fromFile(Path.of(file.get()), connectTimeout, operationTimeout);
        } else if (members.isPresent()) {
            List<String> addresses = addresses(members.get());
            String cluster = clusterName.orElse(Config.DEFAULT_CLUSTER_NAME);
            source = InstanceSource.client(() -> clientConfig(config.id(), cluster, addresses, connectTimeout,
                    operationTimeout), "a Hazelcast client of cluster \"" + cluster + "\" (" + addresses.size()
                    + " address" + (addresses.size() == 1 ? "" : "es") + ")");
        } else {
            String cluster = clusterName.orElse(DEFAULT_EMBEDDED_CLUSTER_NAME);
            source = InstanceSource.member(() -> embeddedConfig(config.id(), cluster),
                    "an embedded Hazelcast member of its own cluster \"" + cluster + "\"");
        }
        return new HazelcastSettings(source, mapName, operationTimeout);
    }

    /** Validates a map name. */
    static String mapName(String mapName) {
        if (mapName.isBlank()) {
            throw new IllegalArgumentException("Option mapName must not be blank");
        }
        return mapName.trim();
    }

    /** The member configuration of the default embedded member: a one-member cluster on the loopback interface. */
    static Config embeddedConfig(String id, String clusterName) {
        Config config = new Config();
        config.setClusterName(clusterName);
        config.setInstanceName(instanceName(id, "member"));
        NetworkConfig network = config.getNetworkConfig();
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty(ClusterProperty.PHONE_HOME_ENABLED.getName(), "false");
        config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
        return config;
    }

    /** The client configuration for the {@code members} option. */
    static ClientConfig clientConfig(String id, String clusterName, List<String> addresses, Duration connectTimeout,
            Duration operationTimeout) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(clusterName);
        config.setInstanceName(instanceName(id, "client"));
        config.getNetworkConfig().setAddresses(new ArrayList<>(addresses));
        config.getNetworkConfig().setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()));
        config.getConnectionStrategyConfig().setAsyncStart(false);
        config.setProperty(ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
        boundTime(config, connectTimeout, operationTimeout);
        return config;
    }

    /**
     * Makes a client fail fast: while disconnected, calls fail at once (reconnect mode ASYNC) instead of
     * waiting, and the client gives up on the cluster after {@code connectTimeout} (then the provider
     * starts a new client on its next use).
     */
    private static void boundTime(ClientConfig config, Duration connectTimeout, Duration operationTimeout) {
        config.getConnectionStrategyConfig().setReconnectMode(ReconnectMode.ASYNC);
        ConnectionRetryConfig retry = config.getConnectionStrategyConfig().getConnectionRetryConfig();
        retry.setClusterConnectTimeoutMillis(connectTimeout.toMillis());
        retry.setInitialBackoffMillis((int) Math.min(200, connectTimeout.toMillis()));
        retry.setMaxBackoffMillis((int) Math.min(2000, Math.max(200, connectTimeout.toMillis() / 2)));
        config.setProperty(ClientProperty.INVOCATION_TIMEOUT_SECONDS.getName(),
                Long.toString(Math.max(1, (operationTimeout.toMillis() + 999) / 1000)));
    }

    private static InstanceSource fromFile(Path path, Duration connectTimeout, Duration operationTimeout) {
        if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
            throw new IllegalArgumentException("Option config names no readable file: " + path);
        }
        String fileName = path.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = fileName.endsWith(".yaml") || fileName.endsWith(".yml");
        if (!yaml && !fileName.endsWith(".xml")) {
            throw new IllegalArgumentException("Option config must name a .xml, .yaml or .yml file: " + path);
        }
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("Option config: cannot read " + path + ": " + e.getMessage(), e);
        }
        boolean client = yaml ? YAML_CLIENT_ROOT.matcher(text).find() : text.contains("<hazelcast-client");
        File file = path.toFile();
        // Parse once now, so a broken file fails create() with IllegalArgumentException, not the first call.
        if (client) {
            loadClient(file, yaml);
            return InstanceSource.client(() -> {
                ClientConfig config = loadClient(file, yaml);
                if (config.getConnectionStrategyConfig().getConnectionRetryConfig().getClusterConnectTimeoutMillis() < 0) {
                    // Hazelcast's default is to try for ever; a lock call must fail in bounded time.
                    config.getConnectionStrategyConfig().getConnectionRetryConfig()
                            .setClusterConnectTimeoutMillis(connectTimeout.toMillis());
                }
                setIfAbsent(config.getProperties(), ClientProperty.INVOCATION_TIMEOUT_SECONDS.getName(),
                        Long.toString(Math.max(1, (operationTimeout.toMillis() + 999) / 1000)));
                setIfAbsent(config.getProperties(), ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
                return config;
            }, "a Hazelcast client configured by " + path.getFileName());
        }
        loadMember(file);
        return InstanceSource.member(() -> {
            Config config = loadMember(file);
            setIfAbsent(config.getProperties(), ClusterProperty.LOGGING_TYPE.getName(), "slf4j");
            return config;
        }, "a Hazelcast member configured by " + path.getFileName());
    }

    private static ClientConfig loadClient(File file, boolean yaml) {
        try {
            return yaml ? new YamlClientConfigBuilder(file).build() : new XmlClientConfigBuilder(file).build();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("Option config: " + file.getName()
                    + " is not a valid Hazelcast client configuration: " + e.getMessage(), e);
        }
    }

    private static Config loadMember(File file) {
        try {
            return Config.loadFromFile(file);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("Option config: " + file.getName()
                    + " is not a valid Hazelcast member configuration: " + e.getMessage(), e);
        }
    }

    private static void setIfAbsent(Properties properties, String name, String value) {
        if (properties.getProperty(name) == null && System.getProperty(name) == null) {
            properties.setProperty(name, value);
        }
    }

    private static Duration timeout(String option, String value) {
        Duration timeout = OptionValues.duration(option, value);
        if (timeout.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException("Option " + option + " must be at most " + MAX_TIMEOUT.toHours()
                    + " hours: \"" + value + "\"");
        }
        return timeout;
    }

    /**
     * Checks every address of {@code members} now, so that a typo fails the provider's creation naming the
     * option, instead of its first call, after the connect timeout, with Hazelcast's own words.
     */
    static List<String> addresses(String members) {
        List<String> addresses = new ArrayList<>();
        for (String part : members.split(",", -1)) {
            String address = part.trim();
            var matcher = ADDRESS.matcher(address);
            if (!matcher.matches()) {
                throw new IllegalArgumentException("Option members: \"" + address + "\" is not a host or host:port"
                        + " address (in \"" + members + "\"; comma-separated, such as 10.0.0.5:5701,10.0.0.6:5701)");
            }
            String port = matcher.group(2);
            if (port != null && !validPort(port)) {
                throw new IllegalArgumentException("Option members: the port of \"" + address + "\" is not a number"
                        + " from 1 to 65535 (in \"" + members + "\")");
            }
            addresses.add(address);
        }
        return List.copyOf(addresses);
    }

    private static boolean validPort(String port) {
        if (port.isEmpty() || port.length() > 5 || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return false;
        }
        int value = Integer.parseInt(port);
        return value >= 1 && value <= 65535;
    }

    private static Optional<String> nonBlank(ProviderConfig config, String name) {
        Optional<String> value = config.option(name);
        if (value.isPresent() && value.get().isBlank()) {
            throw new IllegalArgumentException("Option " + name + " must not be blank");
        }
        return value.map(String::trim);
    }

    private static String instanceName(String id, String kind) {
        return id + "-" + kind + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
