package dev.locking.hazelcast;

import dev.locking.spi.LockingProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The semantics through a provider that runs its own embedded member, configured by a member YAML file
 * (the {@code config} option) on a free port; the second client is a provider connected to that member as
 * a client.
 */
class EmbeddedMemberSemanticsTest extends ProviderSemanticsTest {

    private @Nullable LockingProvider provider;
    private @Nullable LockingProvider second;
    private @Nullable Path file;

    @BeforeAll
    void start() throws IOException {
        String cluster = TestMembers.clusterName("embedded-semantics");
        int port = TestMembers.freePort();
        file = Files.createTempFile("hazelcast-member", ".yaml");
        Files.writeString(file, memberYaml(cluster, port));
        provider = TestMembers.provider("lp_hazelcast", Map.of("config", file.toString()));
        // The member starts on first use; the second client can only connect after that.
        provider.inspect("warm-up");
        second = TestMembers.clientProvider("lp_hazelcast", cluster, "127.0.0.1:" + port, "locking");
    }

    static String memberYaml(String cluster, int port) {
        return """
                hazelcast:
                  cluster-name: %s
                  network:
                    port:
                      port: %d
                      auto-increment: false
                    interfaces:
                      enabled: true
                      interfaces:
                        - 127.0.0.1
                    join:
                      multicast:
                        enabled: false
                      tcp-ip:
                        enabled: false
                      auto-detection:
                        enabled: false
                  properties:
                    hazelcast.phone.home.enabled: false
                    hazelcast.socket.bind.any: false
                    hazelcast.partition.count: 31
                """.formatted(cluster, port);
    }

    @AfterAll
    void stop() throws IOException {
        if (second != null) {
            second.close();
        }
        if (provider != null) {
            provider.close();
        }
        if (file != null) {
            Files.deleteIfExists(file);
        }
    }

    @Override
    LockingProvider provider() {
        return Objects.requireNonNull(provider);
    }

    @Override
    LockingProvider secondClient() {
        return Objects.requireNonNull(second);
    }
}
