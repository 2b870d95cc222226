package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Data that lp_zookeeper did not write, where it keeps a lock: a child under a lock node, a node whose data
 * is not a lock, a lock node whose instance marker was deleted by hand. Every call on such a key fails with
 * a {@link LockingException} (not {@link ProviderUnavailableException}: the backend answered) that names the
 * key and the problem, and changes nothing; {@code releaseAll()} and {@code releaseAll(owner)} still release
 * every lock that is ours and leave the foreign data alone.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperForeignDataTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private final String namespace = "test-foreign-" + UUID.randomUUID().toString().substring(0, 8);
    private LockingProvider a;
    private LockingProvider b;
    private CuratorFramework raw;

    @BeforeEach
    void start() throws Exception {
        a = ZK.provider("lp_zookeeper", namespace);
        b = ZK.provider("lp_zookeeper", namespace);
        raw = ZK.newClient();
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
        raw.close();
    }

    private String node(String key) {
        return "/" + namespace + LockPaths.lockPath(key);
    }

    private static void failsNaming(String key, String problem, ThrowingCallable call) {
        assertThatThrownBy(call)
                .isInstanceOf(LockingException.class)
                .isNotInstanceOf(ProviderUnavailableException.class)
                .hasMessageContaining("\"" + key + "\"")
                .hasMessageContaining(problem);
    }

    @Test
    void aChildUnderALockNode_failsEveryCallOnThatKey_changesNothing_andReleaseAllReleasesTheRest()
            throws Exception {
        String k = "child-" + UUID.randomUUID();
        String other = "other-" + UUID.randomUUID();
        String anon = "anon-" + UUID.randomUUID();
        long token = ((AcquireResult.Acquired) a.tryAcquire(List.of(k), "alice", null)).fencingTokens().get(k);
        assertThat(a.tryAcquire(List.of(other), "alice", null)).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(a.tryAcquire(List.of(anon), null, null)).isInstanceOf(AcquireResult.Acquired.class);
        raw.create().forPath(node(k) + "/someone-elses", "x".getBytes(StandardCharsets.UTF_8));
        Stat before = raw.checkExists().forPath(node(k));

        failsNaming(k, "child", () -> a.release(List.of(k), "alice"));
        failsNaming(k, "child", () -> b.release(List.of(other, k), "alice"));
        failsNaming(k, "child", () -> b.tryAcquire(List.of(k), "bob", null));
        failsNaming(k, "child", () -> b.tryAcquire(List.of(k), "alice", Duration.ofMinutes(1)));
        failsNaming(k, "child", () -> b.extend(List.of(k), "alice", Duration.ofMinutes(1)));
        failsNaming(k, "child", () -> b.inspect(k));
        // Nothing changed: the node (same instance, same version), its child, the other keys.
        Stat after = raw.checkExists().forPath(node(k));
        assertThat(after.getCzxid()).isEqualTo(token);
        assertThat(after.getVersion()).isEqualTo(before.getVersion());
        assertThat(raw.checkExists().forPath(node(k) + "/someone-elses")).isNotNull();
        assertThat(b.inspect(other)).get().extracting(LockInfo::ownerId).isEqualTo("alice");

        b.releaseAll("alice"); // releases what is alice's and can be released; no exception
        assertThat(a.inspect(other)).isEmpty();
        assertThat(raw.checkExists().forPath(node(k) + "/someone-elses")).isNotNull();

        b.releaseAll(null); // likewise
        assertThat(a.inspect(anon)).isEmpty();
        assertThat(raw.checkExists().forPath(node(k) + "/someone-elses")).isNotNull();
        assertThat(raw.getChildren().forPath("/" + namespace + LockPaths.LOCKS))
                .containsExactly(Segments.encode(k));

        // Once the foreign child is gone, the key is a lock again and its owner releases it.
        raw.delete().forPath(node(k) + "/someone-elses");
        assertThat(a.release(List.of(k), "alice")).isTrue();
        assertThat(raw.checkExists().forPath(node(k))).isNull();
    }

    @Test
    void aNodeWithForeignDataAtALockPath_failsEveryCall_andNothingIsWritten() throws Exception {
        String k = "foreign-" + UUID.randomUUID();
        String free = "free-" + UUID.randomUUID();
        raw.create().creatingParentsIfNeeded().forPath(node(k), "not a lock".getBytes(StandardCharsets.UTF_8));
        Stat before = raw.checkExists().forPath(node(k));
        String problem = "did not write";

        failsNaming(k, problem, () -> a.tryAcquire(List.of(k), null, null));
        failsNaming(k, problem, () -> a.tryAcquire(List.of(free, k), "alice", null)); // all or nothing
        failsNaming(k, problem, () -> a.release(List.of(k), null));
        failsNaming(k, problem, () -> a.release(List.of(k), "alice"));
        failsNaming(k, problem, () -> a.extend(List.of(k), "alice", Duration.ofMinutes(1)));
        failsNaming(k, problem, () -> a.inspect(k));

        assertThat(raw.checkExists().forPath(node(free))).as("the free key of the refused call").isNull();
        assertThat(raw.checkExists().forPath("/" + namespace + LockPaths.indexPath("alice", free)))
                .isNull();
        Stat after = raw.checkExists().forPath(node(k));
        assertThat(after.getMzxid()).isEqualTo(before.getMzxid());
        assertThat(new String(raw.getData().forPath(node(k)), StandardCharsets.UTF_8)).isEqualTo("not a lock");

        // Other keys work, and releaseAll() releases them but leaves the foreign node.
        assertThat(b.tryAcquire(List.of(free), "alice", null)).isInstanceOf(AcquireResult.Acquired.class);
        a.releaseAll(null);
        assertThat(b.inspect(free)).isEmpty();
        assertThat(raw.checkExists().forPath(node(k))).isNotNull();
        raw.delete().forPath(node(k));
    }

    @Test
    void aLockNodeWhoseMarkerWasDeletedByHand_failsConditionalWrites_namingTheKey() throws Exception {
        String k = "marker-" + UUID.randomUUID();
        assertThat(a.tryAcquire(List.of(k), "alice", Duration.ofMillis(1))).isInstanceOf(AcquireResult.Acquired.class);
        String instances = "/" + namespace + InstanceMarkers.INSTANCES;
        for (String marker : raw.getChildren().forPath(instances)) {
            raw.delete().forPath(instances + "/" + marker);
        }
        // The lease lapsed: a takeover would delete the node, but cannot be sure it is the node it read.
        failsNaming(k, "instance marker", () -> b.tryAcquire(List.of(k), "bob", null));
        // releaseAll() still clears the key.
        b.releaseAll(null);
        assertThat(raw.checkExists().forPath(node(k))).isNull();
        assertThat(b.tryAcquire(List.of(k), "bob", null)).isInstanceOf(AcquireResult.Acquired.class);
        b.releaseAll(null);
    }

    @Test
    void nodesUnderAnOwnerIndexEntry_failTheCallsThatWouldDeleteIt_andReleaseAllReleasesTheRest() throws Exception {
        String k = "indexed-" + UUID.randomUUID();
        String other = "other-" + UUID.randomUUID();
        assertThat(a.tryAcquire(List.of(k, other), "alice", null)).isInstanceOf(AcquireResult.Acquired.class);
        String index = "/" + namespace + LockPaths.indexPath("alice", k);
        raw.create().forPath(index + "/someone-elses");

        failsNaming(k, "child", () -> b.release(List.of(k), "alice"));
        assertThat(b.inspect(k)).get().extracting(LockInfo::ownerId).isEqualTo("alice");

        b.releaseAll("alice"); // no exception: alice's other lock goes, this one stays with its entry
        assertThat(b.inspect(other)).isEmpty();
        assertThat(b.inspect(k)).isPresent();
        b.releaseAll(null); // the lock goes; the index entry that is not empty stays
        assertThat(b.inspect(k)).isEmpty();
        assertThat(raw.checkExists().forPath(index + "/someone-elses")).isNotNull();
        raw.delete().deletingChildrenIfNeeded().forPath(index);
    }
}
