package dev.locking.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.hazelcast.ClientSemanticsTest.ExternalOrLocalCluster;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;

/**
 * The conformance kit against a provider that is a Hazelcast client: of the cluster named by
 * {@code HAZELCAST_MEMBERS} when set (its members need this jar), otherwise of one member started in this JVM.
 */
class ClientConformanceTest extends LockingProviderConformance {

    private final ExternalOrLocalCluster cluster = ExternalOrLocalCluster.startIfNeeded("client-tck");
    private final String mapName = "tck-" + UUID.randomUUID();

    private @Nullable HazelcastInstance planter;

    @AfterAll
    void stopMember() {
        if (planter != null) {
            planter.shutdown();
        }
        cluster.close();
    }

    @Override
    protected InetSocketAddress backendAddress() {
        return TestMembers.firstAddress(cluster.addresses());
    }

    /** A client that routes every call through the one address it is given, the proxy. */
    @Override
    protected LockingProvider newProviderThrough(String id, InetSocketAddress proxy) {
        return TestMembers.proxiedClientProvider(id, cluster.clusterName(), proxy, mapName);
    }

    @Override
    protected synchronized boolean plantForeignData(String key) {
        if (planter == null) {
            planter = TestMembers.client(cluster.clusterName(), cluster.addresses());
        }
        TestMembers.plantForeign(planter, mapName, key);
        return true;
    }

    @Override
    protected LockingProvider newProvider(String id) {
        return TestMembers.clientProvider(id, cluster.clusterName(), cluster.addresses(), mapName);
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        return TestMembers.clientProvider(id, cluster.clusterName(), cluster.addresses(), mapName);
    }

    @Override
    protected LockingProvider newUnreachableProvider(String id) {
        return TestMembers.provider(id, Map.of("members", "127.0.0.1:" + closedPort(),
                "clusterName", cluster.clusterName(), "connectTimeout", "1s", "operationTimeout", "1s"));
    }

    @Override
    protected Map<String, String> childJvmProperties() {
        return Map.of("locking.default", PROVIDER_ID,
                "locking.providers.tck.type", HazelcastProviderFactory.TYPE,
                "locking.providers.tck.members", cluster.addresses(),
                "locking.providers.tck.clusterName", cluster.clusterName(),
                "locking.providers.tck.mapName", mapName);
    }
}
