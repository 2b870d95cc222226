package dev.locking.zookeeper;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole conformance kit against one ZooKeeper server (the in-JVM {@code TestingServer}, or
 * {@code ZOOKEEPER_CONNECT}), with a second Curator client for the two-client tests and child JVMs that
 * reach the same server through {@code -Dlocking.providers.tck.*}.
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
        return new ZookeeperProviderFactory().create(new MapConfig(id,
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
}
