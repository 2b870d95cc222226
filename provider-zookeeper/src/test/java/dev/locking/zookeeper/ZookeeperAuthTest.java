package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** With {@code auth}, lock nodes carry an ACL: clients without the credentials can read them, nothing more. */
@Timeout(value = 1, unit = TimeUnit.MINUTES)
class ZookeeperAuthTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    @Test
    void aClientWithoutTheCredentials_cannotDeleteOrTakeALockNode_butCanReadIt() throws Exception {
        String namespace = "test-auth-" + UUID.randomUUID().toString().substring(0, 8);
        String key = "guarded";
        LockingProvider owner = ZK.provider("lp_zookeeper", namespace, Map.of("auth", "locker:s3cr3t"));
        LockingProvider sameCredentials = ZK.provider("lp_zookeeper", namespace, Map.of("auth", "locker:s3cr3t"));
        LockingProvider stranger = ZK.provider("lp_zookeeper", namespace);
        CuratorFramework raw = ZK.newClient();
        try {
            AcquireResult taken = owner.tryAcquire(List.of(key), null, null);
            assertThat(taken).isInstanceOf(AcquireResult.Acquired.class);
            String path = "/" + namespace + LockPaths.lockPath(key);

            assertThatThrownBy(() -> raw.delete().forPath(path)).isInstanceOf(KeeperException.NoAuthException.class);
            assertThatThrownBy(() -> raw.setData().forPath(path, new byte[0]))
                    .isInstanceOf(KeeperException.NoAuthException.class);
            assertThat(raw.checkExists().forPath(path)).isNotNull();

            // Through the provider: the anonymous lock may be released by anyone, but ZooKeeper refuses.
            assertThatThrownBy(() -> stranger.release(List.of(key), null))
                    .isInstanceOf(LockingException.class)
                    .hasMessageContaining("NOAUTH")
                    .hasMessageNotContaining("s3cr3t");
            assertThat(stranger.inspect(key)).get().extracting(LockInfo::fencingToken)
                    .isEqualTo(((AcquireResult.Acquired) taken).fencingTokens().get(key));
            assertThatThrownBy(() -> stranger.tryAcquire(List.of("other"), null, null))
                    .isInstanceOf(LockingException.class)
                    .hasMessageContaining("NOAUTH");
            assertThatThrownBy(() -> stranger.releaseAll(null)).isInstanceOf(LockingException.class);
            assertThat(owner.inspect(key)).isPresent();

            // A client with the same credentials is the same principal.
            assertThat(sameCredentials.release(List.of(key), null)).isTrue();
            assertThat(owner.inspect(key)).isEmpty();
        } finally {
            owner.releaseAll(null);
            raw.close();
            owner.close();
            sameCredentials.close();
            stranger.close();
        }
    }
}
