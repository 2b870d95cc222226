package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hand-off between two providers (two ZooKeeper sessions, as two JVMs would have), with a look at the
 * nodes: a grant is a persistent node with the short lease that the waiting owner replaces with its own
 * ephemeral node when it claims it,
 * a grant sent before the wait starts is not lost, a waiter that never claims blocks the key for its stay
 * only, a plain acquire does not pass a queue, and a foreign node in a queue is refused without writing.
 * (The kit's HandOff group checks the contract through one provider.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperHandOffTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private static final Duration LONG = Duration.ofMinutes(5);

    private final String namespace = "test-handoff-" + UUID.randomUUID().toString().substring(0, 8);
    private LockingProvider here;
    private LockingProvider there;
    private CuratorFramework raw;
    private String key = "";

    @BeforeAll
    void start() throws Exception {
        here = ZK.provider("lp_zookeeper", namespace);
        there = ZK.provider("lp_zookeeper", namespace);
        raw = ZK.newClient();
    }

    @AfterAll
    void stop() {
        here.close();
        there.close();
        raw.close();
    }

    @BeforeEach
    void freshKey() {
        key = "k" + UUID.randomUUID().toString().substring(0, 6);
    }

    @AfterEach
    void cleanUp() {
        here.releaseAll(null);
    }

    private static String exec(String name) {
        return "exec:test:" + name;
    }

    private static long token(AcquireResult result, String key) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        return ((AcquireResult.Acquired) result).fencingTokens().get(key);
    }

    private Stat lockStat() throws Exception {
        return raw.checkExists().forPath("/" + namespace + LockPaths.lockPath(key));
    }

    @Test
    void aGrantToAnotherSession_isAPersistentNode_thatTheOwnerReplacesWithItsOwnOnClaim() throws Exception {
        long first = token(here.acquireOrQueue(key, exec("a"), LONG, LONG), key);
        assertThat(there.acquireOrQueue(key, exec("b"), LONG, Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Conflict.class);

        assertThat(here.release(List.of(key), exec("a"))).isTrue();
        LockInfo granted = here.inspect(key).orElseThrow();
        assertThat(granted.ownerId()).isEqualTo(exec("b"));
        assertThat(granted.fencingToken()).isGreaterThan(first);
        assertThat(granted.expiresAt()).as("the short first lease: the stay")
                .isBefore(java.time.Instant.now().plusSeconds(31));
        assertThat(lockStat().getEphemeralOwner()).as("ZooKeeper cannot make another session's node").isZero();

        // The grant came before the wait started: it is not lost.
        AcquireResult.Acquired claimed = there.awaitGrant(key, exec("b"), Duration.ofSeconds(10));
        assertThat(claimed).isNotNull();
        assertThat(claimed.fencingTokens().get(key)).as("a node of its own: a new, higher token")
                .isGreaterThan(granted.fencingToken()).isEqualTo(here.inspect(key).orElseThrow().fencingToken());
        assertThat(here.inspect(key).orElseThrow().expiresAt()).as("with the full lease")
                .isAfter(java.time.Instant.now().plus(LONG).minusSeconds(30));
        assertThat(lockStat().getEphemeralOwner()).as("an execute lock is tied to its session again")
                .isEqualTo(((ZookeeperLockingProvider) there).startedClient().getZookeeperClient()
                        .getZooKeeper().getSessionId());
        assertThat(there.extend(List.of(key), exec("b"), LONG)).as("the owner renews its granted node").isTrue();
        assertThat(there.release(List.of(key), exec("b"))).isTrue();
        assertThat(here.inspect(key)).isEmpty();
    }

    @Test
    void aWaiterThatNeverClaimsItsGrant_blocksTheKeyForItsStayOnly() throws Exception {
        long first = token(here.acquireOrQueue(key, exec("a"), LONG, LONG), key);
        Duration stay = Duration.ofSeconds(2);
        assertThat(there.acquireOrQueue(key, exec("dead"), LONG, stay)).isInstanceOf(AcquireResult.Conflict.class);
        assertThat(here.acquireOrQueue(key, exec("c"), LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);
        assertThat(here.release(List.of(key), exec("a"))).isTrue();
        long toDead = here.inspect(key).orElseThrow().fencingToken();
        assertThat(here.inspect(key).orElseThrow().ownerId()).isEqualTo(exec("dead"));

        // "dead" never calls again: its grant lapses after its stay, and c's next call takes the key.
        long[] toC = new long[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            AcquireResult r = here.acquireOrQueue(key, exec("c"), LONG, LONG);
            if (r instanceof AcquireResult.Acquired acquired) {
                toC[0] = acquired.fencingTokens().get(key);
                return true;
            }
            return false;
        });
        assertThat(toC[0]).isGreaterThan(toDead).isGreaterThan(first);
        assertThat(there.awaitGrant(key, exec("dead"), Duration.ofMillis(200))).as("its late claim fails").isNull();
        assertThat(here.inspect(key).orElseThrow().ownerId()).isEqualTo(exec("c"));
    }

    @Test
    void aLapsedKeyWithALiveWaiter_isNotTakenByAPlainAcquire() throws Exception {
        assertThat(here.tryAcquire(List.of(key), "holder", Duration.ofSeconds(3)))
                .isInstanceOf(AcquireResult.Acquired.class);
        assertThat(there.acquireOrQueue(key, exec("w"), LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> here.inspect(key).isEmpty());

        assertThat(here.tryAcquire(List.of(key), "barger", LONG)).as("no barging past the queue")
                .isInstanceOf(AcquireResult.Conflict.class);
        assertThat(there.acquireOrQueue(key, exec("w"), LONG, LONG)).as("the waiter's next call takes it")
                .isInstanceOf(AcquireResult.Acquired.class);
    }

    @Test
    void releaseAllOfAnAcquireOwner_handsItsKeysToQueuedOwners() throws Exception {
        String other = key + "-2";
        assertThat(here.tryAcquire(List.of(key, other), "app", LONG)).isInstanceOf(AcquireResult.Acquired.class);
        long first = here.inspect(key).orElseThrow().fencingToken();
        assertThat(there.acquireOrQueue(key, exec("w"), LONG, LONG)).isInstanceOf(AcquireResult.Conflict.class);

        here.releaseAll("app");
        LockInfo handed = here.inspect(key).orElseThrow(() -> new AssertionError(key + " was left free"));
        assertThat(handed.ownerId()).as("handed over in the release's own step").isEqualTo(exec("w"));
        assertThat(handed.fencingToken()).isGreaterThan(first);
        assertThat(here.inspect(other)).as("a key nobody queues for is just released").isEmpty();
        assertThat(there.awaitGrant(key, exec("w"), Duration.ofSeconds(10))).isNotNull();
    }

    @Test
    void aForeignNodeInAQueue_isRefused_andNothingIsWritten() throws Exception {
        token(here.acquireOrQueue(key, exec("a"), LONG, LONG), key);
        String queue = "/" + namespace + KeyQueues.queuePath(key);
        raw.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT)
                .forPath(queue + "/someone-else", "not ours".getBytes(StandardCharsets.UTF_8));
        Stat before = raw.checkExists().forPath(queue);

        assertThatThrownBy(() -> there.acquireOrQueue(key, exec("b"), LONG, LONG))
                .isInstanceOf(LockingException.class).hasMessageContaining("someone-else")
                .hasMessageContaining("did not write");
        assertThatThrownBy(() -> here.release(List.of(key), exec("a")))
                .isInstanceOf(LockingException.class).hasMessageContaining("someone-else");
        assertThat(raw.getChildren().forPath(queue)).containsExactly("someone-else");
        assertThat(raw.checkExists().forPath(queue).getVersion()).isEqualTo(before.getVersion());
        assertThat(here.inspect(key).orElseThrow().ownerId()).isEqualTo(exec("a"));
        raw.delete().forPath(queue + "/someone-else");
    }

    @Test
    void badLeaseOrStay_isRefused_andNothingIsWritten() throws Exception {
        assertThatThrownBy(() -> here.acquireOrQueue(key, exec("a"), Duration.ZERO, LONG))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> here.acquireOrQueue(key, exec("a"), LONG, Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(lockStat()).isNull();
        assertThat(raw.checkExists().forPath("/" + namespace + KeyQueues.queuePath(key))).isNull();
    }
}
