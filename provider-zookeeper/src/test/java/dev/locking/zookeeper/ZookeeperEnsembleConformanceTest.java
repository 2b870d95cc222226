package dev.locking.zookeeper;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole conformance kit against a three-server ensemble (Curator's in-JVM {@link TestingCluster}):
 * the two clients connect to the ensemble, and so may talk to different servers, which tests that the
 * provider relies on nothing a single server gives for free.
 */
class ZookeeperEnsembleConformanceTest extends LockingProviderConformance {
    private @Nullable TestingCluster cluster;

    @BeforeAll
    void startEnsemble() throws Exception {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int id = 1; id <= 3; id++) {
            specs.add(new InstanceSpec(null, -1, -1, -1, true, id, ZookeeperServer.TICK_MILLIS, -1));
        }
        TestingCluster c = new TestingCluster(specs);
        c.start();
        cluster = c;
    }

    @AfterAll
    void stopEnsemble() throws IOException {
        TestingCluster c = cluster;
        cluster = null;
        if (c != null) {
            c.close();
        }
    }

    private String connectString() {
        return Objects.requireNonNull(cluster, "the ensemble is not running").getConnectString();
    }

    @Override
    protected LockingProvider newProvider(String id) {
        return new ZookeeperProviderFactory().create(new MapConfig(id, Map.of("connectString", connectString(),
                "namespace", "tck-ensemble", "sessionTimeout", "10s", "connectionTimeout", "10s")));
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return newProvider(id);
    }
}
