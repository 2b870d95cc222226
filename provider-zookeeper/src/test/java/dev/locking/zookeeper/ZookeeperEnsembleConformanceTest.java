package dev.locking.zookeeper;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import dev.locking.tck.TestConfig;
import java.util.Map;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole conformance kit against a three-server ensemble (Curator's in-JVM {@link TestingCluster}):
 * the two clients connect to the ensemble, and so may talk to different servers, which tests that the
 * provider relies on nothing a single server gives for free.
 */
class ZookeeperEnsembleConformanceTest extends LockingProviderConformance {
    @RegisterExtension
    static final ZookeeperEnsemble ENSEMBLE = new ZookeeperEnsemble();

    @Override
    protected LockingProvider newProvider(String id) {
        return new ZookeeperProviderFactory().create(new TestConfig(id, Map.of(
                "connectString", ENSEMBLE.cluster().getConnectString(),
                "namespace", "tck-ensemble", "sessionTimeout", "10s", "connectionTimeout", "10s")));
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return newProvider(id);
    }
}
