package dev.locking.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.LockingProviderConformance;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The conformance kit against a provider that runs its own embedded member, configured by a member YAML
 * file (the {@code config} option) on a free port. Second clients, and the kit's child JVMs, connect to that
 * member as Hazelcast clients.
 */
class EmbeddedMemberConformanceTest extends LockingProviderConformance {

    private final String cluster = TestMembers.clusterName("embedded-tck");
    private final String mapName = "tck-" + UUID.randomUUID();
    private final int port = TestMembers.freePort();
    private @Nullable Path file;
    private @Nullable LockingProvider first;
    private @Nullable HazelcastInstance planter;

    @BeforeAll
    void writeMemberConfig() throws IOException {
        file = Files.createTempFile("hazelcast-member", ".yaml");
        Files.writeString(file, EmbeddedMemberSemanticsTest.memberYaml(cluster, port));
    }

    @AfterAll
    void deleteMemberConfig() throws IOException {
        if (planter != null) {
            planter.shutdown();
        }
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Override
    protected LockingProvider newProvider(String id) {
        LockingProvider provider = TestMembers.provider(id,
                Map.of("config", Objects.requireNonNull(file).toString(), "mapName", mapName));
        first = provider;
        return provider;
    }

    /** The embedded member starts on the first provider's first call; clients need it running. */
    private void startMember() {
        Objects.requireNonNull(first, "newProvider was not called yet").inspect("warm-up");
    }

    @Override
    protected LockingProvider newSecondClient(String id) {
        startMember();
        return TestMembers.clientProvider(id, cluster, "127.0.0.1:" + port, mapName);
    }

    @Override
    protected LockingProvider newUnreachableProvider(String id) {
        return TestMembers.provider(id, Map.of("members", "127.0.0.1:" + closedPort(),
                "clusterName", cluster, "connectTimeout", "1s", "operationTimeout", "1s"));
    }

    @Override
    protected InetSocketAddress backendAddress() {
        return new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port);
    }

    /** A client of the embedded member that routes every call through the one address it is given, the proxy. */
    @Override
    protected LockingProvider newProviderThrough(String id, InetSocketAddress proxy) {
        startMember();
        return TestMembers.proxiedClientProvider(id, cluster, proxy, mapName);
    }

    @Override
    protected synchronized boolean plantForeignData(String key) {
        startMember();
        if (planter == null) {
            planter = TestMembers.client(cluster, "127.0.0.1:" + port);
        }
        TestMembers.plantForeign(planter, mapName, key);
        return true;
    }

    @Override
    protected Map<String, String> childJvmProperties() {
        startMember();
        return Map.of("locking.default", PROVIDER_ID,
                "locking.providers.tck.type", HazelcastProviderFactory.TYPE,
                "locking.providers.tck.members", "127.0.0.1:" + port,
                "locking.providers.tck.clusterName", cluster,
                "locking.providers.tck.mapName", mapName);
    }
}
