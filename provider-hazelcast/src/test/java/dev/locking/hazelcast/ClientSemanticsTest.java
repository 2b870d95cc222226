package dev.locking.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.spi.LockingProvider;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The semantics through a provider that is a client of a cluster: the cluster named by
 * {@code HAZELCAST_MEMBERS} (and {@code HAZELCAST_CLUSTER_NAME}, default {@code dev}) when set, whose
 * members need this jar on their classpath; otherwise one member started in this JVM.
 */
class ClientSemanticsTest extends ProviderSemanticsTest {

    private final ExternalOrLocalCluster cluster = ExternalOrLocalCluster.startIfNeeded("client-semantics");
    private @Nullable LockingProvider provider;
    private @Nullable LockingProvider second;

    @BeforeAll
    void start() {
        String map = TestMembers.clusterName("locks");
        provider = TestMembers.clientProvider("lp_hazelcast", cluster.clusterName(), cluster.addresses(), map);
        second = TestMembers.clientProvider("lp_hazelcast", cluster.clusterName(), cluster.addresses(), map);
    }

    @AfterAll
    void stop() {
        if (provider != null) {
            provider.close();
        }
        if (second != null) {
            second.close();
        }
        cluster.close();
    }

    @Override
    LockingProvider provider() {
        return java.util.Objects.requireNonNull(provider);
    }

    @Override
    LockingProvider secondClient() {
        return java.util.Objects.requireNonNull(second);
    }

    /** A cluster for tests: the external one named by the environment, or one local member. */
    record ExternalOrLocalCluster(String clusterName, String addresses, @Nullable HazelcastInstance member)
            implements AutoCloseable {

        static ExternalOrLocalCluster startIfNeeded(String prefix) {
            String external = System.getenv("HAZELCAST_MEMBERS");
            if (external != null && !external.isBlank()) {
                String name = System.getenv("HAZELCAST_CLUSTER_NAME");
                return new ExternalOrLocalCluster(name == null || name.isBlank() ? "dev" : name, external.trim(), null);
            }
            String name = TestMembers.clusterName(prefix);
            HazelcastInstance member = TestMembers.startMember(name);
            return new ExternalOrLocalCluster(name, TestMembers.address(member), member);
        }

        @Override
        public void close() {
            if (member != null) {
                member.shutdown();
            }
        }
    }
}
