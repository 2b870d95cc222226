package dev.locking.redis;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import dev.locking.tck.TestConfig;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The whole conformance kit against a three-master Redis Cluster, with two clients and several JVMs. */
class RedisClusterConformanceTest extends LockingProviderConformance {
    @RegisterExtension
    static final RedisCluster CLUSTER = RedisCluster.shared();

    /** This class's namespace: the kit's releaseAll() tests must not see anybody else's locks. */
    private final String prefix = "tck-" + UUID.randomUUID() + ":";

    @Override
    protected LockingProvider newProvider(String id) {
        return CLUSTER.provider(id, "keyPrefix", prefix);
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return CLUSTER.provider(id, "keyPrefix", prefix);
    }

    @Override
    protected LockingProvider newUnreachableProvider(String id) {
        return new RedisProviderFactory().create(TestConfig.of(id, "mode", "cluster", "nodes",
                "127.0.0.1:" + closedPort(), "connectTimeout", "1s", "timeout", "1s"));
    }

    @Override
    protected Map<String, String> childJvmProperties() {
        return Map.of("locking.default", PROVIDER_ID,
                "locking.providers.tck.type", "redis",
                "locking.providers.tck.mode", "cluster",
                "locking.providers.tck.nodes", CLUSTER.nodeList(),
                "locking.providers.tck.keyPrefix", prefix);
    }
}
