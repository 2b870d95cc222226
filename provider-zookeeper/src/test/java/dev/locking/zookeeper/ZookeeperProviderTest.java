package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The provider through its SPI, against a real ZooKeeper server, with a look at the nodes it writes.
 * (The conformance kit checks the semantics through the core as well; these tests pin what is special to
 * ZooKeeper: node modes, czxid tokens, the owner index, watches, key encoding, lazy connection.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperProviderTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    private static final Duration SHORT = Duration.ofMillis(800);

    private final String namespace = "test-provider-" + UUID.randomUUID().toString().substring(0, 8);
    private LockingProvider a;
    private LockingProvider b;
    private CuratorFramework raw;
    private String prefix = "";

    @BeforeAll
    void start() throws Exception {
        a = ZK.provider("lp_zookeeper", namespace);
        b = ZK.provider("lp_zookeeper", namespace);
        raw = ZK.newClient();
    }

    @AfterAll
    void stop() {
        a.close();
        b.close();
        raw.close();
    }

    @BeforeEach
    void freshKeys() {
        prefix = "k" + UUID.randomUUID().toString().substring(0, 6) + "-";
    }

    @AfterEach
    void cleanUp() {
        a.releaseAll(null);
    }

    private String key(String name) {
        return prefix + name;
    }

    private String node(String key) {
        return "/" + namespace + LockPaths.lockPath(key);
    }

    private Stat stat(String path) throws Exception {
        Stat stat = raw.checkExists().forPath(path);
        assertThat(stat).as("node %s", path).isNotNull();
        return stat;
    }

    private static AcquireResult.Acquired acquired(AcquireResult result) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        return (AcquireResult.Acquired) result;
    }

    @Nested
    class Nodes {
        @Test
        void anAcquiredKey_isAPersistentNode_whoseCzxidIsTheToken_andWhoseDataNamesOwnerAndExpiry() throws Exception {
            String k = key("p");
            Instant before = Instant.now();
            AcquireResult.Acquired r = acquired(a.tryAcquire(List.of(k), "alice", Duration.ofMinutes(1)));
            Stat stat = stat(node(k));
            assertThat(r.fencingTokens()).containsEntry(k, stat.getCzxid());
            assertThat(stat.getEphemeralOwner()).isZero();
            String data = new String(raw.getData().forPath(node(k)), StandardCharsets.UTF_8);
            assertThat(data).startsWith("locking-v2\n").endsWith("\n=alice");
            assertThat(r.expiresAt()).isBetween(before.plusSeconds(59), Instant.now().plusSeconds(61));
            assertThat(raw.checkExists().forPath("/" + namespace + LockPaths.indexPath("alice", k)))
                    .as("owner index entry").isNotNull();
        }

        @Test
        void anExecuteOwnersKey_isAnEphemeralNode_withoutAnIndexEntryInZooKeeper() throws Exception {
            String k = key("e");
            String owner = "exec:test:" + UUID.randomUUID();
            acquired(a.tryAcquire(List.of(k), owner, Duration.ofSeconds(30)));
            assertThat(stat(node(k)).getEphemeralOwner()).isNotZero();
            assertThat(raw.checkExists().forPath("/" + namespace + LockPaths.ownerPath(owner)))
                    .as("owner container").isNull();
            assertThat(a.release(List.of(k), owner)).isTrue();
            assertThat(raw.checkExists().forPath(node(k))).isNull();
        }

        @Test
        void releaseAllOfAnExecuteOwner_releasesTheKeysItTookThroughThisProvider() throws Exception {
            String owner = "exec:test:" + UUID.randomUUID();
            acquired(a.tryAcquire(List.of(key("e1"), key("e2")), owner, Duration.ofSeconds(30)));
            acquired(a.tryAcquire(List.of(key("e3")), owner, Duration.ofSeconds(30)));
            acquired(a.tryAcquire(List.of(key("other")), "exec:test:" + UUID.randomUUID(), Duration.ofSeconds(30)));
            a.releaseAll(owner);
            for (String k : List.of(key("e1"), key("e2"), key("e3"))) {
                assertThat(raw.checkExists().forPath(node(k))).as(k).isNull();
            }
            assertThat(raw.checkExists().forPath(node(key("other")))).isNotNull();
            a.releaseAll(owner); // nothing left: no complaint
        }

        @Test
        void severalKeys_areCreatedInOneTransaction_withOneZxidAsTheirTokens() {
            List<String> keys = List.of(key("1"), key("2"), key("3"));
            AcquireResult.Acquired r = acquired(a.tryAcquire(keys, null, null));
            assertThat(r.fencingTokens().values()).hasSize(3).containsOnly(r.fencingTokens().get(key("1")));
            assertThat(r.expiresAt()).isNull();
        }

        @Test
        void anonymousLocks_haveNoIndexEntry() throws Exception {
            String k = key("anon");
            acquired(a.tryAcquire(List.of(k), null, null));
            assertThat(a.inspect(k)).get().extracting(LockInfo::ownerId).isNull();
            for (String owner : raw.getChildren().forPath("/" + namespace + LockPaths.OWNERS)) {
                assertThat(raw.checkExists().forPath("/" + namespace + LockPaths.OWNERS + "/" + owner
                        + "/" + Segments.encode(k))).isNull();
            }
        }
    }

    @Nested
    class Semantics {
        @Test
        void aConflict_isAllOrNothing_andNamesTheFirstHeldKeyInOrder() throws Exception {
            String k1 = key("a"), k2 = key("b"), k3 = key("c"), k4 = key("d");
            acquired(b.tryAcquire(List.of(k2), "bob", null));
            acquired(b.tryAcquire(List.of(k4), null, null));
            assertThat(a.tryAcquire(List.of(k1, k2, k3, k4), "alice", null)).isEqualTo(new AcquireResult.Conflict(k2));
            assertThat(raw.checkExists().forPath(node(k1))).isNull();
            assertThat(raw.checkExists().forPath(node(k3))).isNull();
        }

        @Test
        void reentry_withALease_movesTheExpiry_withoutOne_keepsIt_andTheTokenStays() throws Exception {
            String k = key("r");
            AcquireResult.Acquired first = acquired(a.tryAcquire(List.of(k), "alice", Duration.ofSeconds(10)));
            AcquireResult.Acquired again = acquired(b.tryAcquire(List.of(k), "alice", Duration.ofMinutes(10)));
            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());
            assertThat(again.expiresAt()).isAfter(Instant.now().plusSeconds(500));
            AcquireResult.Acquired third = acquired(a.tryAcquire(List.of(k), "alice", null));
            assertThat(third.expiresAt()).isEqualTo(again.expiresAt());
            assertThat(third.fencingTokens()).isEqualTo(first.fencingTokens());
            assertThat(a.inspect(k)).get().extracting(LockInfo::fencingToken).isEqualTo(first.fencingTokens().get(k));
        }

        @Test
        void anAnonymousLock_isReenteredByNobody_andReleasedByAnyone() {
            String k = key("anon");
            acquired(a.tryAcquire(List.of(k), null, null));
            assertThat(a.tryAcquire(List.of(k), null, null)).isEqualTo(new AcquireResult.Conflict(k));
            assertThat(a.tryAcquire(List.of(k), "alice", null)).isEqualTo(new AcquireResult.Conflict(k));
            assertThat(b.release(List.of(k), "whoever")).isTrue();
            assertThat(a.inspect(k)).isEmpty();
        }

        @Test
        void release_leavesOtherOwnersKeys_andOwnedKeysWithoutAnOwner() {
            String mine = key("mine"), theirs = key("theirs");
            acquired(a.tryAcquire(List.of(mine), "alice", null));
            acquired(a.tryAcquire(List.of(theirs), "bob", null));
            assertThat(b.release(List.of(mine), null)).isFalse();
            assertThat(b.release(List.of(mine, theirs), "alice")).isFalse();
            assertThat(a.inspect(mine)).isEmpty();
            assertThat(a.inspect(theirs)).get().extracting(LockInfo::ownerId).isEqualTo("bob");
            assertThat(a.release(List.of(key("never")), "alice")).isFalse();
        }

        @Test
        void tokens_increaseAcrossReleaseAndExpiry() {
            String k = key("t");
            long t1 = acquired(a.tryAcquire(List.of(k), "alice", null)).fencingTokens().get(k);
            assertThat(a.release(List.of(k), "alice")).isTrue();
            long t2 = acquired(b.tryAcquire(List.of(k), "bob", SHORT)).fencingTokens().get(k);
            await().atMost(Duration.ofSeconds(10)).until(() -> a.inspect(k).isEmpty());
            long t3 = acquired(a.tryAcquire(List.of(k), "carol", null)).fencingTokens().get(k);
            assertThat(t2).isGreaterThan(t1);
            assertThat(t3).isGreaterThan(t2);
        }

        @Test
        void aLapsedLease_isTakenOver_andThePreviousOwnersIndexEntryGoesWithIt() throws Exception {
            String k = key("lapse");
            acquired(a.tryAcquire(List.of(k), "bob", SHORT));
            await().atMost(Duration.ofSeconds(10)).until(() -> a.inspect(k).isEmpty());
            assertThat(a.extend(List.of(k), "bob", Duration.ofSeconds(5))).isFalse();
            assertThat(a.release(List.of(k), "bob")).as("a lapsed key is not held").isFalse();
            acquired(b.tryAcquire(List.of(k), "bob", SHORT));
            await().atMost(Duration.ofSeconds(10)).until(() -> a.inspect(k).isEmpty());
            acquired(b.tryAcquire(List.of(k), "carol", null));
            assertThat(raw.checkExists().forPath("/" + namespace + LockPaths.indexPath("bob", k)))
                    .isNull();
            assertThat(raw.checkExists().forPath("/" + namespace + LockPaths.indexPath("carol", k)))
                    .isNotNull();
        }

        @Test
        void anExecuteOwnersRelease_afterReleaseAllAndATakeoverWithTheSameVersion_leavesTheNewHoldersLock()
                throws Exception {
            String k1 = key("u1"), k2 = key("u2");
            String owner = "exec:test:" + UUID.randomUUID();
            acquired(a.tryAcquire(List.of(k1, k2), owner, Duration.ofSeconds(30)));
            int[] versions = {stat(node(k1)).getVersion(), stat(node(k2)).getVersion()};
            b.releaseAll(null); // deletes the nodes behind a's back
            acquired(b.tryAcquire(List.of(k1, k2), "bob", null));
            // The new nodes have the versions a remembers: only the epoch tells them apart.
            assertThat(new int[] {stat(node(k1)).getVersion(), stat(node(k2)).getVersion()}).isEqualTo(versions);
            assertThat(a.release(List.of(k1, k2), owner)).isFalse();
            assertThat(a.inspect(k1)).get().extracting(LockInfo::ownerId).isEqualTo("bob");
            assertThat(a.inspect(k2)).get().extracting(LockInfo::ownerId).isEqualTo("bob");
            // The provider learnt the new epoch: the next execute release works (without reading) again.
            String owner2 = "exec:test:" + UUID.randomUUID();
            acquired(a.tryAcquire(List.of(key("u3")), owner2, Duration.ofSeconds(30)));
            assertThat(a.release(List.of(key("u3")), owner2)).isTrue();
            assertThat(raw.checkExists().forPath(node(key("u3")))).isNull();
        }

        @Test
        void anExecuteOwnersRelease_afterItsLeaseLapsedAndWasTakenOver_leavesTheNewHoldersLock() {
            String k = key("lapsed-exec");
            String owner = "exec:test:" + UUID.randomUUID();
            acquired(a.tryAcquire(List.of(k), owner, Duration.ofMillis(1500)));
            await().atMost(Duration.ofSeconds(10)).until(() -> b.inspect(k).isEmpty());
            acquired(b.tryAcquire(List.of(k), "bob", null)); // deletes the lapsed node, creates its own
            assertThat(a.release(List.of(k), owner)).isFalse();
            assertThat(a.inspect(k)).get().extracting(LockInfo::ownerId).isEqualTo("bob");
        }

        @Test
        void anExecuteOwnersRelease_afterAnExtend_releasesEveryKey() throws Exception {
            List<String> keys = List.of(key("x1"), key("x2"));
            String owner = "exec:test:" + UUID.randomUUID();
            acquired(a.tryAcquire(keys, owner, Duration.ofSeconds(30)));
            assertThat(a.extend(keys, owner, Duration.ofSeconds(30))).isTrue();
            assertThat(a.release(keys, owner)).isTrue();
            for (String k : keys) {
                assertThat(raw.checkExists().forPath(node(k))).as(k).isNull();
            }
        }

        @Test
        void extend_resetsTheLease_onlyForTheOwner() {
            String k = key("x");
            acquired(a.tryAcquire(List.of(k), "alice", Duration.ofSeconds(5)));
            assertThat(b.extend(List.of(k), "alice", Duration.ofMinutes(5))).isTrue();
            assertThat(a.inspect(k)).get().extracting(LockInfo::expiresAt)
                    .matches(e -> e != null && e.isAfter(Instant.now().plusSeconds(200)));
            assertThat(a.extend(List.of(k), "bob", Duration.ofMinutes(5))).isFalse();
            assertThat(a.extend(List.of(k, key("free")), "alice", Duration.ofMinutes(5))).isFalse();
        }

        @Test
        void releaseAllOfAnOwner_releasesItsLocksThroughTheIndex_andNothingElse() throws Exception {
            List<String> alices = List.of(key("a1"), key("a2"), key("a3"));
            acquired(a.tryAcquire(alices, "alice", null));
            acquired(a.tryAcquire(List.of(key("b1")), "bob", null));
            acquired(a.tryAcquire(List.of(key("n1")), null, null));
            b.releaseAll("alice");
            for (String k : alices) {
                assertThat(a.inspect(k)).isEmpty();
            }
            assertThat(a.inspect(key("b1"))).isPresent();
            assertThat(a.inspect(key("n1"))).isPresent();
            assertThat(raw.getChildren().forPath("/" + namespace + LockPaths.ownerPath("alice")))
                    .isEmpty();
        }

        /**
         * releaseAll(owner) reads and deletes in batches (of at most 100 keys, and of fewer when keys are
         * long); every batch must go, and an index entry whose lock another owner holds now leaves that
         * lock alone.
         */
        @Test
        void releaseAllOfAnOwner_withManyKeysAndLongOnes_releasesThemAll_andOnlyTheirs() throws Exception {
            List<String> many = new ArrayList<>();
            for (int i = 0; i < 250; i++) {
                many.add(key("m" + i));
            }
            acquired(a.tryAcquire(many, "alice", null));
            List<String> longKeys = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                // 1024 characters, each percent-encoded to 9: the longest node names a key can have.
                longKeys.add((i + "-" + prefix + "\u20ac".repeat(1024)).substring(0, 1024));
            }
            acquired(a.tryAcquire(longKeys, "alice", null));
            String takenOver = key("taken-over");
            acquired(a.tryAcquire(List.of(takenOver), "bob", null));
            raw.create().creatingParentsIfNeeded()
                    .forPath("/" + namespace + LockPaths.indexPath("alice", takenOver));

            b.releaseAll("alice");

            assertThat(many).allMatch(k -> a.inspect(k).isEmpty());
            assertThat(longKeys).allMatch(k -> a.inspect(k).isEmpty());
            assertThat(a.inspect(takenOver)).get().extracting(LockInfo::ownerId).isEqualTo("bob");
            assertThat(raw.getChildren().forPath("/" + namespace + LockPaths.ownerPath("alice")))
                    .isEmpty();
        }

        @Test
        void releaseAllWithoutOwner_releasesEveryLockOfTheNamespace_only() {
            LockingProvider other = ZK.provider("lp_other", namespace + "-other");
            try {
                acquired(other.tryAcquire(List.of(key("elsewhere")), null, null));
                acquired(a.tryAcquire(List.of(key("1")), "alice", null));
                acquired(a.tryAcquire(List.of(key("2")), "exec:x:1", Duration.ofSeconds(30)));
                acquired(a.tryAcquire(List.of(key("3")), null, null));
                b.releaseAll(null);
                assertThat(List.of(key("1"), key("2"), key("3"))).allMatch(k -> a.inspect(k).isEmpty());
                assertThat(other.inspect(key("elsewhere"))).isPresent();
                // After releaseAll() the owners can take keys again (no stale index entries block them).
                acquired(a.tryAcquire(List.of(key("1")), "alice", null));
                acquired(a.tryAcquire(List.of(key("2")), "exec:x:1", Duration.ofSeconds(30)));
            } finally {
                other.releaseAll(null);
                other.close();
            }
        }

        @Test
        void aStaleIndexEntry_doesNotBlockItsOwner() throws Exception {
            String k = key("stale");
            String index = "/" + namespace + LockPaths.indexPath("dave", k);
            raw.create().creatingParentsIfNeeded().forPath(index);
            acquired(a.tryAcquire(List.of(k), "dave", null));
            assertThat(a.release(List.of(k), "dave")).isTrue();
            assertThat(raw.checkExists().forPath(index)).isNull();
        }

        @Test
        void anOwnerContainerDeletedBehindTheProvidersBack_isCreatedAgain() throws Exception {
            String container = "/" + namespace + LockPaths.ownerPath("erin");
            acquired(a.tryAcquire(List.of(key("1")), "erin", null)); // a now believes the container exists
            assertThat(a.release(List.of(key("1")), "erin")).isTrue();
            raw.delete().forPath(container); // as ZooKeeper does with an empty container
            acquired(a.tryAcquire(List.of(key("2")), "erin", null));
            assertThat(raw.getChildren().forPath(container)).containsExactly(Segments.encode(key("2")));
        }
    }

    @Nested
    class Keys {
        @Test
        void oddKeys_roundTripThroughAcquireInspectAndRelease_eachInItsOwnNode() throws Exception {
            List<String> odd = new ArrayList<>(List.of("a/b", "..", ".", " ", "/", "%2F", "%", "zookeeper",
                    "ключ-🔒-鍵", "\u0000x", "\uD800", "?", "a\nb", "x".repeat(1024), "é".repeat(1024),
                    "🔒".repeat(512)));
            List<String> keys = odd.stream().map(k -> prefix + k).sorted().toList();
            AcquireResult.Acquired r = acquired(a.tryAcquire(keys, "odd-owner/..", null));
            assertThat(r.fencingTokens()).hasSize(keys.size());
            assertThat(raw.getChildren().forPath("/" + namespace + LockPaths.LOCKS))
                    .filteredOn(c -> c.startsWith(Segments.encode(prefix)))
                    .hasSize(keys.size());
            for (String k : keys) {
                Optional<LockInfo> info = b.inspect(k);
                assertThat(info).as("inspect %s", k).get()
                        .isEqualTo(new LockInfo(k, "odd-owner/..", null, r.fencingTokens().get(k)));
            }
            assertThat(b.release(keys, "odd-owner/..")).isTrue();
            for (String k : keys) {
                assertThat(a.inspect(k)).isEmpty();
            }
            // Single keys too (the bare "." and ".." without a prefix).
            for (String k : List.of(".", "..", "zookeeper", "a/b")) {
                acquired(a.tryAcquire(List.of(k), null, null));
                assertThat(a.inspect(k)).isPresent();
                assertThat(a.release(List.of(k), null)).isTrue();
            }
        }
    }

    @Nested
    class Interrupts {
        /**
         * An interrupt that lands while the client waits for ZooKeeper's answer makes the client give up on a
         * request the server may already have carried out. The provider finishes such an acquire on a thread
         * nothing interrupts, so a caller is never told "failed" for a lock it holds, and it gets its interrupt
         * back. One thread acquires fresh keys while another interrupts it over and over.
         */
        @Test
        void anAcquireInterruptedWhileItWaitsForTheServer_isFinished_andTheFlagIsKept() throws Exception {
            int rounds = 300;
            a.inspect(key("started")); // connected and laid out before the interrupts begin
            List<String> acquiredKeys = new ArrayList<>();
            List<String> failures = new ArrayList<>();
            AtomicInteger interruptedAfter = new AtomicInteger();
            Thread caller = new Thread(() -> {
                for (int i = 0; i < rounds; i++) {
                    String k = key("int-" + i);
                    try {
                        a.tryAcquire(List.of(k), "owner-int", null);
                        acquiredKeys.add(k);
                    } catch (RuntimeException e) {
                        failures.add(k + ": " + e);
                    }
                    if (Thread.interrupted()) {
                        interruptedAfter.incrementAndGet();
                    }
                }
            }, "interrupted-caller");
            Thread interrupter = new Thread(() -> {
                while (caller.isAlive()) {
                    caller.interrupt();
                    LockSupport.parkNanos(50_000); // pacing, so the caller also gets calls in between
                }
            }, "interrupter");
            caller.start();
            interrupter.start();
            caller.join(TimeUnit.MINUTES.toMillis(2));
            interrupter.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(caller.isAlive()).isFalse();

            assertThat(failures).as("calls that failed").isEmpty();
            assertThat(acquiredKeys).hasSize(rounds).allMatch(k -> a.inspect(k).isPresent());
            assertThat(interruptedAfter).as("calls after which the flag was set").hasPositiveValue();
            b.releaseAll("owner-int");
        }
    }

    @Nested
    class Waiting {
        @Test
        void awaitRelease_wakesEveryWaiter_soonAfterAReleaseThroughAnotherClient() throws Exception {
            String k = key("w");
            acquired(b.tryAcquire(List.of(k), "bob", null));
            int waiters = 4;
            ExecutorService pool = Executors.newFixedThreadPool(waiters);
            try {
                CountDownLatch started = new CountDownLatch(waiters);
                List<Future<Long>> done = new ArrayList<>();
                for (int i = 0; i < waiters; i++) {
                    done.add(pool.submit(() -> {
                        started.countDown();
                        long t0 = System.nanoTime();
                        // Waiting returns early only when the key may be free: loop on spurious wake-ups.
                        while (a.inspect(k).isPresent()) {
                            a.awaitRelease(List.of(k), Duration.ofSeconds(30));
                        }
                        return System.nanoTime() - t0;
                    }));
                }
                started.await();
                await().atMost(Duration.ofSeconds(10)).until(() -> b.inspect(k).isPresent());
                Thread.sleep(300); // let the waiters arm their watch; not for synchronisation of the outcome
                long releasedAt = System.nanoTime();
                assertThat(b.release(List.of(k), "bob")).isTrue();
                for (Future<Long> f : done) {
                    f.get(10, TimeUnit.SECONDS);
                }
                assertThat(Duration.ofNanos(System.nanoTime() - releasedAt)).isLessThan(Duration.ofSeconds(5));
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void awaitRelease_returnsWhenTheHoldersLeaseLapses() throws Exception {
            String k = key("lapse");
            acquired(b.tryAcquire(List.of(k), "bob", Duration.ofMillis(1500)));
            long t0 = System.nanoTime();
            a.awaitRelease(List.of(k), Duration.ofSeconds(60));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
        }

        @Test
        void awaitRelease_returnsAtOnceForAFreeKey_andByMaxWaitOtherwise() throws Exception {
            long t0 = System.nanoTime();
            a.awaitRelease(List.of(key("free")), Duration.ofSeconds(60));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
            String k = key("held");
            acquired(b.tryAcquire(List.of(k), "bob", null));
            long t1 = System.nanoTime();
            a.awaitRelease(List.of(k), Duration.ofMillis(300));
            assertThat(Duration.ofNanos(System.nanoTime() - t1)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
        }

        @Test
        void awaitRelease_answersAnInterrupt() throws Exception {
            String k = key("int");
            acquired(b.tryAcquire(List.of(k), "bob", null));
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    a.awaitRelease(List.of(k), Duration.ofMinutes(1));
                } catch (Throwable t) {
                    thrown.set(t);
                }
            });
            waiter.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> waiter.getState() == Thread.State.TIMED_WAITING
                    || waiter.getState() == Thread.State.WAITING);
            waiter.interrupt();
            waiter.join(10_000);
            assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        }

        @Test
        void twoClients_contendingThroughTheSpi_neverOverlap_andCountExactly() throws Exception {
            String k = key("count");
            int threadsPerClient = 2;
            int iterations = 15;
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger counter = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(2 * threadsPerClient);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (LockingProvider p : List.of(a, b)) {
                    for (int t = 0; t < threadsPerClient; t++) {
                        futures.add(pool.submit(() -> {
                            for (int i = 0; i < iterations; i++) {
                                String owner = "exec:count:" + UUID.randomUUID();
                                while (!(p.tryAcquire(List.of(k), owner, Duration.ofSeconds(30))
                                        instanceof AcquireResult.Acquired)) {
                                    p.awaitRelease(List.of(k), Duration.ofSeconds(5));
                                }
                                try {
                                    if (inside.incrementAndGet() != 1) {
                                        overlaps.incrementAndGet();
                                    }
                                    int seen = counter.get();
                                    java.util.concurrent.locks.LockSupport.parkNanos(200_000); // widen the window
                                    counter.set(seen + 1);
                                    inside.decrementAndGet();
                                } finally {
                                    assertThat(p.release(List.of(k), owner)).isTrue();
                                }
                            }
                            return null;
                        }));
                    }
                }
                for (Future<?> f : futures) {
                    f.get(90, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(overlaps.get()).isZero();
            assertThat(counter.get()).isEqualTo(2 * threadsPerClient * iterations);
        }
    }

    @Nested
    class Connection {
        @Test
        void creating_connectsToNothing_andTheFirstCallOnADeadAddressFailsInBoundedTime() throws Exception {
            int port;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                port = s.getLocalPort();
            }
            LockingProvider dead = new ZookeeperProviderFactory().create(new TestConfig("lp_dead",
                    Map.of("connectString", "127.0.0.1:" + port, "connectionTimeout", "1s")));
            try {
                long t0 = System.nanoTime();
                assertThatThrownBy(() -> dead.tryAcquire(List.of("k"), null, null))
                        .isInstanceOf(ProviderUnavailableException.class)
                        .hasMessageContaining("lp_dead")
                        .hasMessageNotContaining("127.0.0.1");
                assertThatThrownBy(() -> dead.inspect("k")).isInstanceOf(ProviderUnavailableException.class);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
            } finally {
                dead.close();
            }
            assertThatThrownBy(() -> dead.inspect("k")).isInstanceOf(IllegalStateException.class);
        }

        @Test
        void fromClient_usesTheApplicationsClient_underItsNamespace_andLeavesItOpen() throws Exception {
            CuratorFramework root = ZK.newClient();
            CuratorFramework app = root.usingNamespace("app-" + namespace);
            try {
                LockingProvider p = ZookeeperProviderFactory.fromClient("lp_app", app, "locks-here");
                String k = key("app");
                acquired(p.tryAcquire(List.of(k), "alice", null));
                assertThat(raw.checkExists().forPath("/app-" + namespace + "/locks-here"
                        + LockPaths.lockPath(k))).isNotNull();
                p.releaseAll(null);
                p.close();
                assertThat(app.checkExists().forPath("/locks-here")).isNotNull();
            } finally {
                root.close();
            }
        }
    }
}
