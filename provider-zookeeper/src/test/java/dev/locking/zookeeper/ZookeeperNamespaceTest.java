package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two namespaces on one ensemble never touch each other's nodes: one nested in the other works side by
 * side with it (releaseAll() of each included), and a namespace that would lie inside another one's
 * bookkeeping ({@code apps/locks}) is refused when the provider is created.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperNamespaceTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private final String outerNs = "test-ns-" + UUID.randomUUID().toString().substring(0, 8);

    private static void acquired(AcquireResult r) {
        assertThat(r).isInstanceOf(AcquireResult.Acquired.class);
    }

    @Test
    void aNamespaceNestedInAnother_worksSideBySide_andEachReleaseAllLeavesTheOther() {
        LockingProvider outer = ZK.provider("lp_outer", outerNs);
        LockingProvider inner = ZK.provider("lp_inner", outerNs + "/inner");
        try {
            for (LockingProvider p : List.of(outer, inner)) {
                acquired(p.tryAcquire(List.of("k1"), "alice", null));
                acquired(p.tryAcquire(List.of("k2"), null, null));
                acquired(p.tryAcquire(List.of("k3"), "exec:x:1", java.time.Duration.ofMinutes(1)));
            }
            assertThat(outer.inspect("k1")).get().extracting(LockInfo::ownerId).isEqualTo("alice");
            outer.releaseAll(null);
            assertThat(List.of("k1", "k2", "k3")).allMatch(k -> outer.inspect(k).isEmpty());
            assertThat(List.of("k1", "k2", "k3")).allMatch(k -> inner.inspect(k).isPresent());
            acquired(outer.tryAcquire(List.of("k1"), "alice", null));
            inner.releaseAll("alice");
            assertThat(inner.inspect("k1")).isEmpty();
            assertThat(outer.inspect("k1")).isPresent();
            inner.releaseAll(null);
            assertThat(List.of("k2", "k3")).allMatch(k -> inner.inspect(k).isEmpty());
            assertThat(outer.inspect("k1")).isPresent();
            outer.releaseAll(null);
        } finally {
            outer.close();
            inner.close();
        }
    }

    @Test
    void aNamespaceThatCouldLieInsideAnothersNodes_isRefusedWhenCreated() {
        for (String ns : List.of(outerNs + "/locks", outerNs + "/owners", outerNs + "/instances",
                outerNs + "/locks/deeper", "a/b/owners/c")) {
            assertThatThrownBy(() -> ZK.provider("lp_nested", ns))
                    .as(ns)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("namespace")
                    .hasMessageContaining("lp_nested");
        }
        // The chroot of the connect string counts as part of the path.
        assertThatThrownBy(() -> ZK.provider("lp_nested", "locks",
                Map.of("connectString", ZK.connectString() + "/" + outerNs)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace");
        // A first segment of that name is fine: nothing can be above it.
        ZK.provider("lp_top", "locks").close();
    }

    @Test
    void anApplicationsClient_whoseNamespaceWouldNestTheProvider_isRefused() throws Exception {
        CuratorFramework root = ZK.newClient();
        try {
            assertThatThrownBy(() -> ZookeeperProviderFactory.fromClient("lp_app", root.usingNamespace(outerNs),
                    "locks")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("namespace");
            ZookeeperProviderFactory.fromClient("lp_app", root.usingNamespace(outerNs), "locking").close();
        } finally {
            root.close();
        }
    }

    /**
     * What an earlier version allowed (namespace {@code N/locks} next to {@code N}): the inner namespace's
     * nodes under the outer one's {@code /locks}. The outer one must not take them for locks: its
     * releaseAll() releases its own and leaves them; its calls on such a key fail naming it.
     */
    @Test
    void nodesOfANamespaceNestedInsideLocks_areLeftAlone_andReleaseAllStillReleasesOurs() throws Exception {
        LockingProvider outer = ZK.provider("lp_outer", outerNs);
        CuratorFramework raw = ZK.newClient();
        try {
            acquired(outer.tryAcquire(List.of("mine"), "alice", null));
            acquired(outer.tryAcquire(List.of("anon"), null, null));
            String innerRoot = "/" + outerNs + "/locks/inner";
            raw.create().creatingParentsIfNeeded().forPath(innerRoot + "/locks/k", new byte[0]);
            raw.create().creatingParentsIfNeeded().forPath(innerRoot + "/owners");

            outer.releaseAll(null);

            assertThat(outer.inspect("mine")).isEmpty();
            assertThat(outer.inspect("anon")).isEmpty();
            assertThat(raw.checkExists().forPath(innerRoot + "/locks/k")).isNotNull();
            assertThatThrownBy(() -> outer.tryAcquire(List.of("inner"), null, null))
                    .isInstanceOf(dev.locking.api.LockingException.class).hasMessageContaining("\"inner\"");
            raw.delete().deletingChildrenIfNeeded().forPath(innerRoot);
        } finally {
            outer.close();
            raw.close();
        }
    }
}
