package dev.locking.hazelcast;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.ProviderConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Starts real Hazelcast members inside the test JVM, on free loopback ports and with a cluster name of
 * their own, tuned to start and notice a lost member quickly; and builds providers on them.
 */
final class TestMembers {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();

    private TestMembers() {}

    /** A cluster name no other fixture uses. */
    static String clusterName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A port nobody listens on right now. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A member configuration on 127.0.0.1:port that joins the members on {@code peers} only. */
    static Config memberConfig(String clusterName, int port, List<Integer> peers) {
        Config config = new Config();
        config.setClusterName(clusterName);
        config.setInstanceName(clusterName + "-member-" + SEQUENCE.incrementAndGet());
        config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
        config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = config.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(!peers.isEmpty());
        for (int peer : peers) {
            join.getTcpIpConfig().addMember("127.0.0.1:" + peer);
        }
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.partition.count", "31");
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "6");
        config.setProperty("hazelcast.health.monitoring.level", "OFF");
        return config;
    }

    /** Starts one member of its own cluster on a free port. */
    static HazelcastInstance startMember(String clusterName) {
        return Hazelcast.newHazelcastInstance(memberConfig(clusterName, freePort(), List.of()));
    }

    /** The address of a member, as {@code host:port}. */
    static String address(HazelcastInstance member) {
        var address = member.getCluster().getLocalMember().getAddress();
        return address.getHost() + ":" + address.getPort();
    }

    /** A plain Hazelcast client of a cluster, for looking at the maps directly. */
    static HazelcastInstance client(String clusterName, String addresses) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(clusterName);
        config.getNetworkConfig().setAddresses(List.of(addresses.split(",")));
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(10_000);
        return HazelcastClient.newHazelcastClient(config);
    }

    /**
     * Puts, at {@code key} of the lock map, a value of a type this provider never writes: a JSON document
     * without an {@code owner} field (Hazelcast refuses a value it cannot index once the map has the owner
     * index, and accepts this one either way).
     */
    static void plantForeign(HazelcastInstance instance, String mapName, String key) {
        instance.getMap(mapName).put(key, new HazelcastJsonValue("{\"written-by\":\"another program\"}"));
    }

    /**
     * A provider that is a single-member-routing client of the member at {@code address} (a loopback proxy in
     * front of it): it talks to that address only, never to the member list the cluster announces, so
     * all its traffic goes through the proxy. Configured through a client YAML file (the {@code config}
     * option), since routing is not one of the provider's options.
     */
    static LockingProvider proxiedClientProvider(String id, String clusterName, InetSocketAddress address,
            String mapName) {
        try {
            Path file = Files.createTempFile("hazelcast-client-proxied", ".yaml");
            file.toFile().deleteOnExit();
            Files.writeString(file, """
                    hazelcast-client:
                      cluster-name: %s
                      network:
                        cluster-routing:
                          mode: SINGLE_MEMBER
                        cluster-members:
                          - %s:%d
                    """.formatted(clusterName, address.getHostString(), address.getPort()));
            return provider(id, Map.of("config", file.toString(), "mapName", mapName, "connectTimeout", "2s",
                    "operationTimeout", "2s"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first address of a comma-separated list of {@code host:port}, resolved (test members use IPs). */
    @SuppressWarnings("AddressSelection")
    static InetSocketAddress firstAddress(String addresses) {
        int comma = addresses.indexOf(',');
        String first = (comma < 0 ? addresses : addresses.substring(0, comma)).trim();
        int colon = first.lastIndexOf(':');
        return new InetSocketAddress(first.substring(0, colon), Integer.parseInt(first.substring(colon + 1)));
    }

    /** A provider made by the factory from options, as the core would make it. */
    static LockingProvider provider(String id, Map<String, String> options) {
        return new HazelcastProviderFactory().create(new Options(id, options));
    }

    /** A provider that is a client of the given members. */
    static LockingProvider clientProvider(String id, String clusterName, String addresses, String mapName) {
        return provider(id, Map.of("members", addresses, "clusterName", clusterName, "mapName", mapName));
    }

    /** The {@link ProviderConfig} the core would pass: option names matched ignoring case, - _ and . */
    record Options(String id, Map<String, String> options) implements ProviderConfig {
        Options {
            options = Map.copyOf(new LinkedHashMap<>(options));
        }

        @Override
        public Optional<String> option(String name) {
            return options.entrySet().stream()
                    .filter(e -> normalize(e.getKey()).equals(normalize(name)))
                    .map(Map.Entry::getValue)
                    .findFirst();
        }

        private static String normalize(String name) {
            return name.replaceAll("[-_.]", "").toLowerCase(Locale.ROOT);
        }
    }

    /** One member and one client of its own cluster, for a test class; closing shuts both down. */
    record MemberAndClient(HazelcastInstance member, HazelcastInstance client) implements AutoCloseable {
        static MemberAndClient start(String purpose) {
            String cluster = clusterName(purpose);
            HazelcastInstance member = startMember(cluster);
            return new MemberAndClient(member, TestMembers.client(cluster, address(member)));
        }

        @Override
        public void close() {
            client.shutdown();
            member.shutdown();
        }
    }
}
