package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two independent clients (two providers, each with its own ZooKeeper session) take over the same lapsed
 * lock at the same moment: exactly one may get it. A takeover deletes the lapsed node and creates a new
 * one; the new node's data version can equal the old one's, so a takeover conditional on the version alone
 * can delete the other taker's brand-new node and succeed as well.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ZookeeperTakeoverRaceTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private static final int ROUNDS = 200;

    private final String namespace = "test-race-" + UUID.randomUUID().toString().substring(0, 8);
    private LockingProvider holder;
    private LockingProvider a;
    private LockingProvider b;
    private ExecutorService pool;

    @BeforeEach
    void start() {
        holder = ZK.provider("lp_zookeeper", namespace);
        a = ZK.provider("lp_zookeeper", namespace);
        b = ZK.provider("lp_zookeeper", namespace);
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        holder.releaseAll(null);
        holder.close();
        a.close();
        b.close();
    }

    @Test
    void twoClientsTakingOverOneLapsedAcquireLock_neverBothGetIt() throws Exception {
        race("alice", "bob", "carol");
    }

    @Test
    void twoClientsTakingOverOneLapsedExecuteLock_neverBothGetIt() throws Exception {
        race("exec:holder:" + UUID.randomUUID(), "exec:a:" + UUID.randomUUID(), "exec:b:" + UUID.randomUUID());
    }

    /**
     * The path waiters take when the holder dies: its client stops answering (as a killed process), the
     * server expires its session, its ephemeral lock goes, and two waiters of two other clients, woken by the
     * deletion, try at once. Run with a lease that is still running (the node is deleted) and one that
     * lapsed just before (the waiters may find the node and take it over).
     */
    @Test
    void twoWaiters_whenTheHoldersSessionDies_onlyOneGetsTheKey() throws Exception {
        for (int round = 0; round < 10; round++) {
            String key = "dies-" + round;
            Duration lease = round % 2 == 0 ? Duration.ofMinutes(1) : Duration.ofMillis(300);
            // The shortest session the test server allows: the server expires it about 1 s after the kill.
            ZookeeperLockingProvider dying = (ZookeeperLockingProvider) ZK.provider("lp_zookeeper", namespace,
                    java.util.Map.of("sessionTimeout", "1s"));
            try {
                assertThat(dying.tryAcquire(List.of(key), "exec:dying:" + round, lease))
                        .isInstanceOf(AcquireResult.Acquired.class);
                java.util.concurrent.atomic.AtomicInteger got = new java.util.concurrent.atomic.AtomicInteger();
                CyclicBarrier start = new CyclicBarrier(3);
                List<Future<?>> waiters = new ArrayList<>();
                for (LockingProvider p : List.of(a, b)) {
                    String owner = "exec:waiter:" + UUID.randomUUID();
                    waiters.add(pool.submit(() -> {
                        start.await();
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        boolean sawWinner = false;
                        while (System.nanoTime() < deadline && !sawWinner) {
                            boolean someoneHad = got.get() > 0;
                            if (p.tryAcquire(List.of(key), owner, Duration.ofMinutes(1))
                                    instanceof AcquireResult.Acquired) {
                                got.incrementAndGet();
                                return null;
                            }
                            sawWinner = someoneHad; // refused after the other one had the key: done
                            p.awaitRelease(List.of(key), Duration.ofMillis(500));
                        }
                        return null;
                    }));
                }
                start.await();
                org.apache.curator.test.KillSession.kill(
                        java.util.Objects.requireNonNull(dying.startedClient()).getZookeeperClient().getZooKeeper());
                for (Future<?> w : waiters) {
                    w.get(60, TimeUnit.SECONDS);
                }
                assertThat(got.get()).as("waiters that got the key in round %d", round).isEqualTo(1);
            } finally {
                dying.close();
            }
        }
    }

    private void race(String holderOwner, String ownerA, String ownerB) throws Exception {
        List<String> both = new ArrayList<>();
        int takenOver = 0;
        for (int round = 0; round < ROUNDS; round++) {
            String key = "race-" + round;
            // A tiny lease that is never renewed; the takers start once it has lapsed by this JVM's clock.
            AcquireResult held = holder.tryAcquire(List.of(key), holderOwner + round, Duration.ofMillis(1));
            assertThat(held).isInstanceOf(AcquireResult.Acquired.class);
            long expiry = java.util.Objects.requireNonNull(((AcquireResult.Acquired) held).expiresAt()).toEpochMilli();
            while (System.currentTimeMillis() <= expiry) {
                Thread.onSpinWait(); // at most a millisecond or two
            }
            String takerA = ownerA + round;
            String takerB = ownerB + round;
            CyclicBarrier start = new CyclicBarrier(2);
            Future<AcquireResult> fa = pool.submit(() -> {
                start.await();
                return a.tryAcquire(List.of(key), takerA, Duration.ofMinutes(1));
            });
            Future<AcquireResult> fb = pool.submit(() -> {
                start.await();
                return b.tryAcquire(List.of(key), takerB, Duration.ofMinutes(1));
            });
            AcquireResult ra = fa.get(30, TimeUnit.SECONDS);
            AcquireResult rb = fb.get(30, TimeUnit.SECONDS);
            if (ra instanceof AcquireResult.Acquired && rb instanceof AcquireResult.Acquired) {
                both.add("round " + round + ": " + ra + " and " + rb);
            }
            if (ra instanceof AcquireResult.Acquired || rb instanceof AcquireResult.Acquired) {
                takenOver++;
            }
        }
        assertThat(both).as("rounds in which both clients got the lapsed lock").isEmpty();
        assertThat(takenOver).as("rounds in which one client took the lapsed lock over").isEqualTo(ROUNDS);
    }
}
