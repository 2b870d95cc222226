package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Fencing tokens are creation zxids: they keep increasing across a restart of the ZooKeeper server on the
 * same data directory (the server starts a new epoch, whose zxids are above every earlier one), and a
 * persistent lock keeps its owner and token.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperRestartTest {

    @Test
    void tokensKeepIncreasingAcrossAServerRestartOnTheSameDataDirectory() throws Exception {
        Path dir = Files.createTempDirectory("zk-restart");
        int port = InstanceSpec.getRandomPort();
        try (TestingServer server = new TestingServer(
                new InstanceSpec(dir.toFile(), port, -1, -1, true, -1, ZookeeperServer.TICK_MILLIS, -1), true)) {
            LockingProvider p = new ZookeeperProviderFactory().create(new TestConfig("lp_zookeeper", Map.of(
                    "connectString", server.getConnectString(), "namespace", "restart",
                    "sessionTimeout", "10s", "connectionTimeout", "2s")));
            try {
                long t1 = token(p.tryAcquire(List.of("k"), "alice", null), "k");
                assertThat(p.release(List.of("k"), "alice")).isTrue();
                long t2 = token(p.tryAcquire(List.of("k"), "alice", null), "k");
                long kept = token(p.tryAcquire(List.of("kept"), "bob", null), "kept");
                assertThat(t2).isGreaterThan(t1);
                assertThat(p.release(List.of("k"), "alice")).isTrue();

                server.restart();

                long t3 = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                        .until(() -> token(p.tryAcquire(List.of("k"), "alice", null), "k"), t -> true);
                assertThat(t3).as("token after the restart").isGreaterThan(t2);
                assertThat(p.inspect("kept")).get().extracting(LockInfo::ownerId, LockInfo::fencingToken)
                        .containsExactly("bob", kept);
                assertThat(p.release(List.of("k"), "alice")).isTrue();
                assertThat(token(p.tryAcquire(List.of("k"), "carol", null), "k")).isGreaterThan(t3);
            } finally {
                p.close();
            }
        }
    }

    private static long token(AcquireResult r, String key) {
        assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
        return ((AcquireResult.Acquired) r).fencingTokens().get(key);
    }
}
