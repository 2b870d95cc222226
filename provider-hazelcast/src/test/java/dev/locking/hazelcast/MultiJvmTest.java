package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.LockingProvider;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM of its own, a Hazelcast client (through {@code Locking.create()} and system properties) of a member
 * running in this JVM, holds a leased lock and is killed. The conformance kit checks the same from outside
 * (free within lease + 1 s of the kill); this test also checks that the lock is not freed before its
 * {@code expiresAt}, which caught Hazelcast expiring entries up to a second early. Contention across JVMs
 * is the kit's (see the conformance tests).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MultiJvmTest {

    private @Nullable HazelcastInstance member;
    private String cluster = "";
    private String mapName = "";

    @BeforeAll
    void start() {
        cluster = TestMembers.clusterName("jvms");
        mapName = "jvm-locks-" + UUID.randomUUID();
        member = TestMembers.startMember(cluster);
    }

    @AfterAll
    void stop() {
        if (member != null) {
            member.shutdown();
        }
    }

    private String address() {
        return TestMembers.address(Objects.requireNonNull(member));
    }

    private Map<String, String> childProperties() {
        return Map.of("locking.default", "lp_hazelcast",
                "locking.providers.hazelcast.members", address(),
                "locking.providers.hazelcast.clusterName", cluster,
                "locking.providers.hazelcast.mapName", mapName);
    }

    @Test
    void aKilledClientsLeasedLock_isFreeWithinItsLeasePlusOneSecond(@TempDir Path dir) throws Exception {
        String key = "held-" + UUID.randomUUID();
        Process holder = ChildJvm.start(childProperties(), dir.resolve("holder.err"), "hold", key, "3000");
        long expiresAt;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as(Files.readString(dir.resolve("holder.err"))).startsWith("HELD ");
            expiresAt = Long.parseLong(line.substring("HELD ".length()));
        } finally {
            holder.destroyForcibly();
        }
        assertThat(holder.waitFor(30, TimeUnit.SECONDS)).isTrue();
        try (LockingProvider provider = TestMembers.clientProvider("lp_hazelcast", cluster, address(), mapName)) {
            AcquireResult result = provider.tryAcquire(List.of(key), "parent", null);
            while (!(result instanceof Acquired)) {
                provider.awaitRelease(List.of(key), Duration.ofSeconds(10));
                result = provider.tryAcquire(List.of(key), "parent", null);
            }
            long freeAt = System.currentTimeMillis();
            // The member (in this JVM) decides with this JVM's clock.
            assertThat(freeAt).isGreaterThanOrEqualTo(expiresAt).isLessThanOrEqualTo(expiresAt + 1000);
        }
    }
}
