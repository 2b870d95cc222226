package dev.locking.zookeeper;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import dev.locking.tck.TestConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.client.ConnectStringParser;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole conformance kit against one ZooKeeper server (the in-JVM {@code TestingServer}, or
 * {@code ZOOKEEPER_CONNECT}), with a second Curator client for the two-client tests and child JVMs that
 * reach the same server through {@code -Dlocking.providers.tck.*}, a client that reaches it through the kit's
 * loopback proxy, and foreign data planted where a key's lock node would be.
 */
class ZookeeperConformanceTest extends LockingProviderConformance {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    /** The kit empties the namespace after each test: one of its own. */
    private final String namespace = "tck-" + UUID.randomUUID().toString().substring(0, 8);

    @Override
    protected LockingProvider newProvider(String id) {
        return ZK.provider(id, namespace);
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return ZK.provider(id, namespace);
    }

    @Override
    protected LockingProvider newUnreachableProvider(String id) {
        return new ZookeeperProviderFactory().create(new TestConfig(id,
                Map.of("connectString", "127.0.0.1:" + closedPort(), "connectionTimeout", "1s")));
    }

    @Override
    protected Map<String, String> childJvmProperties() {
        return Map.of(
                "locking.default", PROVIDER_ID,
                "locking.providers.tck.type", ZookeeperProviderFactory.TYPE,
                "locking.providers.tck.connectString", ZK.connectString(),
                "locking.providers.tck.namespace", namespace,
                "locking.providers.tck.sessionTimeout", "10s");
    }

    /** The server's address, when the tests run against one server (the in-JVM one, or a single one named). */
    @Override
    protected @Nullable InetSocketAddress backendAddress() {
        List<InetSocketAddress> servers = new ConnectStringParser(ZK.connectString()).getServerAddresses();
        if (servers.size() != 1) {
            return null;
        }
        InetSocketAddress server = servers.get(0);
        return new InetSocketAddress(server.getHostString(), server.getPort());
    }

    /** A provider of the same namespace whose connect string is the proxy's address (and the same chroot). */
    @Override
    protected LockingProvider newProviderThrough(String id, InetSocketAddress proxy) {
        String chroot = new ConnectStringParser(ZK.connectString()).getChrootPath();
        return ZK.provider(id, namespace, Map.of("connectString",
                proxy.getHostString() + ":" + proxy.getPort() + (chroot == null ? "" : chroot)));
    }

    /**
     * A node at the key's lock path that lp_zookeeper did not write: data that is not a lock, and a child
     * under it (a lock node never has children), as another program sharing the namespace might leave.
     */
    @Override
    protected boolean plantForeignData(String key) {
        try (CuratorFramework raw = ZK.newClient()) {
            String path = "/" + namespace + LockPaths.lockPath(key);
            raw.create().creatingParentsIfNeeded().forPath(path, "not a lock".getBytes(StandardCharsets.UTF_8));
            raw.create().forPath(path + "/child", new byte[0]);
            return true;
        } catch (Exception e) {
            throw new IllegalStateException("could not plant foreign data at " + key, e);
        }
    }
}
