package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockInfo;
import dev.locking.api.LockLostException;
import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.KillSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A holder whose ZooKeeper session expires: what ZooKeeper takes away (its {@code execute} locks, which
 * are ephemeral) and what it keeps (its {@code acquire} locks, which are persistent).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperSessionTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private final String namespace = "test-session-" + UUID.randomUUID().toString().substring(0, 8);
    private ZookeeperLockingProvider holder;
    private LockingProvider other;

    @BeforeEach
    void start() {
        holder = (ZookeeperLockingProvider) ZK.provider("lp_zookeeper", namespace, Map.of("sessionTimeout", "2s", "connectionTimeout", "2s"));
        other = ZK.provider("lp_zookeeper", namespace);
    }

    @AfterEach
    void stop() {
        other.releaseAll(null);
        holder.close();
        other.close();
    }

    @Test
    void anExpiredSession_losesItsExecuteLocks_keepsItsAcquireLocks_andTheProviderGoesOn() throws Exception {
        String executeKey = "session-exec-" + UUID.randomUUID();
        String acquireKey = "session-acq-" + UUID.randomUUID();
        String execOwner = "exec:" + UUID.randomUUID() + ":1";
        AcquireResult taken = holder.tryAcquire(List.of(executeKey), execOwner, Duration.ofSeconds(30));
        assertThat(taken).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(holder.tryAcquire(List.of(acquireKey), "alice", null)).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(holder.extend(List.of(executeKey), execOwner, Duration.ofSeconds(30))).isTrue();
        assertThat(other.tryAcquire(List.of(executeKey), "bob", null)).isEqualTo(new AcquireResult.Conflict(executeKey));

        CuratorFramework client = Objects.requireNonNull(holder.startedClient());
        KillSession.kill(client.getZookeeperClient().getZooKeeper());

        // The holder learns at once (Curator reports LOST): renewal says "gone", so the core turns the
        // job's handle lost.
        await().atMost(Duration.ofSeconds(20))
                .until(() -> !holder.extend(List.of(executeKey), execOwner, Duration.ofSeconds(30)));
        // The server drops the old session once its timeout passes: the execute lock is free for others.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> other.inspect(executeKey).isEmpty());
        assertThat(other.tryAcquire(List.of(executeKey), "bob", null)).isInstanceOf(AcquireResult.Acquired.class);
        // The persistent lock outlives the session.
        assertThat(other.inspect(acquireKey)).get().extracting(LockInfo::ownerId).isEqualTo("alice");
        // The holder works again with a new session.
        assertThat(holder.extend(List.of(acquireKey), "alice", Duration.ofMinutes(1))).isTrue();
        String again = "session-again-" + UUID.randomUUID();
        String newOwner = "exec:" + UUID.randomUUID() + ":2";
        assertThat(holder.tryAcquire(List.of(again), newOwner, Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Acquired.class);
        assertThat(holder.extend(List.of(again), newOwner, Duration.ofSeconds(30))).isTrue();
        assertThat(holder.release(List.of(again), newOwner)).isTrue();
        // The lost owner's leftover (if any) is released without complaint, and bob's lock stays.
        holder.releaseAll(execOwner);
        assertThat(holder.release(List.of(executeKey), execOwner)).isFalse();
        assertThat(other.inspect(executeKey)).get().extracting(LockInfo::ownerId).isEqualTo("bob");
    }

    @Test
    void aRunningExecute_whoseSessionIsLost_throwsLockLostException_andItsLockIsFree() throws Exception {
        String key = "session-job-" + UUID.randomUUID();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (LockingService locking = Locking.builder().provider(holder).defaultProvider(holder.id()).build()) {
            CountDownLatch running = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            Future<Object> job = pool.submit(() -> locking.execute(key, lock -> {
                running.countDown();
                never.await(); // until the core interrupts the job
                return "finished";
            }, ExecuteOptions.builder().expire(Duration.ofSeconds(3)).build()));
            assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(other.inspect(key)).isPresent();

            CuratorFramework client = Objects.requireNonNull(holder.startedClient());
            KillSession.kill(client.getZookeeperClient().getZooKeeper());

            assertThatThrownBy(() -> job.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(LockLostException.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> other.inspect(key).isEmpty());
            assertThat(other.tryAcquire(List.of(key), "bob", null)).isInstanceOf(AcquireResult.Acquired.class);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closingTheProvider_endsItsSession_soItsExecuteLocksAreFreeAtOnce() {
        String key = "session-close-" + UUID.randomUUID();
        String execOwner = "exec:" + UUID.randomUUID() + ":1";
        assertThat(holder.tryAcquire(List.of(key), execOwner, Duration.ofSeconds(30)))
                .isInstanceOf(AcquireResult.Acquired.class);
        holder.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> other.inspect(key).isEmpty());
    }
}
