package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A three-server ensemble (Curator's in-JVM {@link TestingCluster}, on free ports) whose leader dies while
 * locks are held: ZooKeeper keeps the data and the sessions across the election, so every lock is still
 * held, by the same owners with the same tokens, and the providers go on working.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ZookeeperClusterTest {
    private TestingCluster cluster;
    private LockingProvider a;
    private LockingProvider b;

    @BeforeEach
    void start() throws Exception {
        List<InstanceSpec> specs = new ArrayList<>();
        for (int id = 1; id <= 3; id++) {
            specs.add(new InstanceSpec(null, -1, -1, -1, true, id, ZookeeperServer.TICK_MILLIS, -1));
        }
        cluster = new TestingCluster(specs);
        cluster.start();
        Map<String, String> options = Map.of("connectString", cluster.getConnectString(), "namespace", "cluster-test",
                "sessionTimeout", "10s", "connectionTimeout", "10s");
        a = new ZookeeperProviderFactory().create(new TestConfig("lp_zookeeper", options));
        b = new ZookeeperProviderFactory().create(new TestConfig("lp_zookeeper", options));
    }

    @AfterEach
    void stop() throws IOException {
        try {
            a.close();
            b.close();
        } finally {
            cluster.close();
        }
    }

    @Test
    void killingTheLeader_whileLocksAreHeld_keepsThemHeld_andOperationsGoOn() throws Exception {
        String persistent = "cluster-p-" + UUID.randomUUID();
        String ephemeral = "cluster-e-" + UUID.randomUUID();
        String execOwner = "exec:" + UUID.randomUUID() + ":1";
        AcquireResult.Acquired p = (AcquireResult.Acquired) a.tryAcquire(List.of(persistent), "alice", null);
        AcquireResult.Acquired e =
                (AcquireResult.Acquired) a.tryAcquire(List.of(ephemeral), execOwner, Duration.ofMinutes(2));
        // Make sure every server has seen the writes before one goes away.
        await().atMost(Duration.ofSeconds(30)).until(() -> b.inspect(ephemeral).isPresent());

        InstanceSpec leader = await().atMost(Duration.ofSeconds(30)).until(() -> ZookeeperEnsemble.leader(cluster), l -> l != null);
        assertThat(cluster.killServer(leader)).isTrue();
        // A new leader is elected among the two that remain.
        InstanceSpec next = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> ZookeeperEnsemble.leader(cluster), l -> l != null && !l.equals(leader));
        assertThat(next).isNotEqualTo(leader);

        // Still held, by the same owners, with the same tokens, through either client.
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> b.inspect(persistent).isPresent());
        assertThat(b.inspect(persistent)).get()
                .isEqualTo(new LockInfo(persistent, "alice", null, p.fencingTokens().get(persistent)));
        Optional<LockInfo> held = b.inspect(ephemeral);
        assertThat(held).get().extracting(LockInfo::ownerId).isEqualTo(execOwner);
        assertThat(held).get().extracting(LockInfo::fencingToken).isEqualTo(e.fencingTokens().get(ephemeral));
        assertThat(b.tryAcquire(List.of(persistent), "bob", null)).isEqualTo(new AcquireResult.Conflict(persistent));

        // The holder's session survived the election: its execute lock renews.
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(() -> a.extend(List.of(ephemeral), execOwner, Duration.ofMinutes(2)));

        // Operations go on: release, take again with a higher token (the new leader's epoch).
        assertThat(a.release(List.of(persistent), "alice")).isTrue();
        AcquireResult.Acquired again = (AcquireResult.Acquired) b.tryAcquire(List.of(persistent), "bob", null);
        assertThat(again.fencingTokens().get(persistent)).isGreaterThan(p.fencingTokens().get(persistent));
        assertThat(a.release(List.of(ephemeral), execOwner)).isTrue();
        assertThat(b.inspect(ephemeral)).isEmpty();
        b.releaseAll("bob");
        assertThat(a.inspect(persistent)).isEmpty();
    }
}
