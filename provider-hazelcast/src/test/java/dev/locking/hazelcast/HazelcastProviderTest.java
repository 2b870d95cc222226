package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.config.Config;
import com.hazelcast.core.DistributedObject;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.LocalIndexStats;
import com.hazelcast.query.Predicates;
import dev.locking.api.AcquireOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.core.Locking;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.AcquireResult.Conflict;
import dev.locking.spi.LockingProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** What is particular to the Hazelcast provider: options, lazy start, the map layout, waking, closing. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HazelcastProviderTest {

    private @Nullable HazelcastInstance member;
    private @Nullable HazelcastInstance client;
    private String cluster = "";

    @BeforeAll
    void start() {
        cluster = TestMembers.clusterName("provider");
        member = TestMembers.startMember(cluster);
        client = TestMembers.client(cluster, TestMembers.address(member()));
    }

    @AfterAll
    void stop() {
        if (client != null) {
            client.shutdown();
        }
        if (member != null) {
            member.shutdown();
        }
    }

    HazelcastInstance member() {
        return Objects.requireNonNull(member);
    }

    HazelcastInstance client() {
        return Objects.requireNonNull(client);
    }

    static String map() {
        return "map-" + UUID.randomUUID();
    }

    static Set<String> instanceNames() {
        Set<String> names = Hazelcast.getAllHazelcastInstances().stream().map(HazelcastInstance::getName)
                .collect(Collectors.toSet());
        HazelcastClient.getAllHazelcastClients().forEach(c -> names.add(c.getName()));
        return names;
    }

    @Nested
    class Options {
        @Test
        void create_withBadValues_throwsIllegalArgumentExceptionNamingTheOption() {
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("members", "a:1,,b:2")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("members");
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("connectTimeout", "soon")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("connectTimeout");
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("operation_timeout", "-5s")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("operationTimeout");
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("mapName", " ")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("mapName");
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("config", "/no/such/file.xml")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("config");
        }

        @Test
        void create_withAMemberAddressThatCannotBeUsed_throwsIllegalArgumentExceptionNamingOptionAndValue() {
            for (String members : List.of("127.0.0.1:notaport", "127.0.0.1:70000", "127.0.0.1:0", "127.0.0.1:",
                    ":5701", "a b:5701", "10.0.0.5:5701,host:port", "[::1]:x")) {
                assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("members", members)))
                        .as(members).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("members").hasMessageContaining(members);
            }
            for (String members : List.of("127.0.0.1:5701", "localhost", "member-1.example.com:5701, 10.0.0.6",
                    "[::1]:5701", "[fe80::1]")) {
                TestMembers.provider("lp_hazelcast", Map.of("members", members)).close();
            }
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("connectTimeout", "PT10000H")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("connectTimeout");
        }

        @Test
        void throughTheCore_aBadMembersValue_makesTheProviderAnswerAtOnceWithProviderUnavailableNamingTheOption() {
            try (LockingService locking = Locking.builder()
                    .option("lp_hazelcast", "members", "127.0.0.1:notaport")
                    .defaultProvider("lp_memory").build()) {
                long start = System.nanoTime();
                assertThatThrownBy(() -> locking.acquire("k",
                        AcquireOptions.builder().provider("lp_hazelcast").build()))
                        .isInstanceOf(ProviderUnavailableException.class)
                        .hasMessageContaining("members").hasMessageContaining("notaport");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            }
        }

        @Test
        void create_withConfigAndMembers_isRejected(@TempDir Path dir) throws IOException {
            Path file = Files.writeString(dir.resolve("client.yaml"), "hazelcast-client:\n  cluster-name: x\n");
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast",
                    Map.of("config", file.toString(), "members", "127.0.0.1:5701")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("config");
        }

        @Test
        void create_withBrokenConfigFile_throwsIllegalArgumentException(@TempDir Path dir) throws IOException {
            Path file = Files.writeString(dir.resolve("broken.xml"), "<hazelcast><no-such-element/></hazelcast>");
            assertThatThrownBy(() -> TestMembers.provider("lp_hazelcast", Map.of("config", file.toString())))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("config");
        }

        @Test
        void clientConfigFile_isUsedAsItIs(@TempDir Path dir) throws IOException {
            Path file = Files.writeString(dir.resolve("client.xml"), """
                    <hazelcast-client xmlns="http://www.hazelcast.com/schema/client-config">
                      <cluster-name>%s</cluster-name>
                      <network>
                        <cluster-members><address>%s</address></cluster-members>
                      </network>
                    </hazelcast-client>
                    """.formatted(cluster, TestMembers.address(member())));
            String mapName = map();
            try (LockingProvider provider = TestMembers.provider("lp_hazelcast",
                    Map.of("config", file.toString(), "mapName", mapName))) {
                provider.tryAcquire(List.of("k"), "owner", null);
                IMap<String, LockEntry> locks = member().getMap(mapName);
                assertThat(locks.get("k").held()).isTrue();
                assertThat(locks.get("k").owner()).isEqualTo("owner");
            }
        }
    }

    @Nested
    class Lazy {
        @Test
        void create_startsNothing_andAnUnreachableClusterFailsFirstUseInBoundedTime() {
            Set<String> before = instanceNames();
            long start = System.nanoTime();
            try (LockingProvider provider = TestMembers.provider("lp_hazelcast", Map.of(
                    "members", "127.0.0.1:" + TestMembers.freePort(), "clusterName", "nobody",
                    "connectTimeout", "1s", "operationTimeout", "1s"))) {
                assertThat(instanceNames()).isEqualTo(before);
                assertThatThrownBy(() -> provider.inspect("k"))
                        .isInstanceOf(ProviderUnavailableException.class)
                        .hasMessageContaining("lp_hazelcast");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        }

        @Test
        void withoutOptions_startsAnEmbeddedMemberThatJoinsNobody_onFirstUse_andStopsItOnClose() {
            Set<String> before = instanceNames();
            LockingProvider provider = TestMembers.provider("lp_solo", Map.of());
            try {
                assertThat(instanceNames()).isEqualTo(before);
                assertThat(provider.tryAcquire(List.of("k"), null, Duration.ofSeconds(5))).isInstanceOf(Acquired.class);
                HazelcastInstance started = Hazelcast.getAllHazelcastInstances().stream()
                        .filter(i -> i.getName().startsWith("lp_solo-member-")).findFirst().orElseThrow();
                Config config = started.getConfig();
                assertThat(config.getClusterName()).isEqualTo("locking");
                assertThat(config.getNetworkConfig().getJoin().getMulticastConfig().isEnabled()).isFalse();
                assertThat(config.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled()).isFalse();
                assertThat(config.getNetworkConfig().getJoin().getAutoDetectionConfig().isEnabled()).isFalse();
                assertThat(config.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
                assertThat(started.getCluster().getMembers()).hasSize(1);
                assertThat(started.getCluster().getLocalMember().getAddress().getHost()).isEqualTo("127.0.0.1");
            } finally {
                provider.close();
            }
            assertThat(instanceNames()).isEqualTo(before);
        }

        @Test
        void fromInstance_touchesTheInstanceOnlyOnFirstUse_andCloseLeavesItRunning() {
            String mapName = map();
            LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_borrowed", client(), mapName);
            assertThat(member().getDistributedObjects()).extracting(DistributedObject::getName).doesNotContain(mapName);
            provider.tryAcquire(List.of("k"), "o", null);
            assertThat(member().getDistributedObjects()).extracting(DistributedObject::getName)
                    .contains(mapName).doesNotContain(mapName + "-fencing");
            provider.close();
            assertThat(client().getLifecycleService().isRunning()).isTrue();
            assertThat(client().<String, LockEntry>getMap(mapName).get("k")).isNotNull();
            assertThatThrownBy(() -> provider.inspect("k")).isInstanceOf(IllegalStateException.class);
        }
    }

    @Nested
    class MapLayout {
        @Test
        void anEntryLivesForItsLease_orUntilReleased_plusTheAfterlife() {
            String mapName = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client(), mapName)) {
                long before = System.currentTimeMillis();
                provider.tryAcquire(List.of("leased"), "o", Duration.ofSeconds(30));
                provider.tryAcquire(List.of("forever"), "o", null);
                provider.tryAcquire(List.of("released"), "o", Duration.ofSeconds(30));
                provider.release(List.of("released"), "o");
                IMap<String, LockEntry> locks = member().getMap(mapName);
                assertThat(locks.getEntryView("forever").getTtl()).isEqualTo(Long.MAX_VALUE);
                assertThat(locks.getEntryView("leased").getTtl())
                        .isBetween(30_000 + LockEntry.ENDED_LOCK_TTL_MILLIS - 10_000, 30_000 + LockEntry.ENDED_LOCK_TTL_MILLIS);
                assertThat(locks.get("leased").expiresAt()).isBetween(before + 30_000, System.currentTimeMillis() + 30_000);
                assertThat(locks.get("forever").expiresAt()).isEqualTo(LockEntry.NEVER);
                assertThat(locks.containsKey("released")).as("a released key leaves no entry").isFalse();
            }
        }

        @Test
        void aReleasedKey_leavesNoEntry_andItsNextTokenIsHigher() {
            String mapName = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client(), mapName)) {
                long last = 0;
                for (int i = 0; i < 3; i++) {
                    long token = ((Acquired) provider.tryAcquire(List.of("k"), "o", Duration.ofSeconds(30)))
                            .fencingTokens().get("k");
                    assertThat(token).isGreaterThan(last);
                    last = token;
                    assertThat(provider.release(List.of("k"), "o")).isTrue();
                }
                IMap<String, LockEntry> locks = member().getMap(mapName);
                assertThat(locks.containsKey("k")).isFalse();
                assertThat(provider.inspect("k")).isEmpty();
                provider.releaseAll("o"); // finds nothing to do
                assertThat(locks.containsKey("k")).isFalse();
                assertThat(provider.release(List.of("k"), "o")).isFalse();
                assertThat(provider.release(List.of("k"), null)).isFalse();
                long next = ((Acquired) provider.tryAcquire(List.of("k"), null, null)).fencingTokens().get("k");
                assertThat(next).isGreaterThan(last);
            }
        }

        @Test
        void aLapsedLock_isFreedByReleaseAllOfItsOwner_withoutCountingAsHeld_andTheNextTokenIsHigher() {
            String mapName = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client(), mapName)) {
                long first = ((Acquired) provider.tryAcquire(List.of("k"), "o", Duration.ofMillis(100)))
                        .fencingTokens().get("k");
                org.awaitility.Awaitility.await().until(() -> provider.inspect("k").isEmpty());
                IMap<String, LockEntry> locks = member().getMap(mapName);
                assertThat(locks.keySet(Predicates.equal("owner", "o"))).containsExactly("k"); // lapsed, not yet freed
                provider.releaseAll("o");
                assertThat(locks.keySet(Predicates.equal("owner", "o"))).isEmpty();
                assertThat(locks.containsKey("k")).isFalse();
                long next = ((Acquired) provider.tryAcquire(List.of("k"), "p", null)).fencingTokens().get("k");
                assertThat(next).isGreaterThan(first);
            }
        }

        @Test
        void releaseAllOfOwner_usesTheOwnerIndex_whichItsFirstCallAdds() {
            String mapName = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", member(), mapName)) {
                for (int i = 0; i < 50; i++) {
                    provider.tryAcquire(List.of("k" + i), i < 5 ? "few" : "many", null);
                }
                // Until then, writes keep no index up to date.
                assertThat(member().getMap(mapName).getLocalMapStats().getIndexStats()).isEmpty();
                provider.releaseAll("few");
                Map<String, LocalIndexStats> indexes = member().getMap(mapName).getLocalMapStats().getIndexStats();
                assertThat(indexes).isNotEmpty();
                assertThat(indexes.values().stream().mapToLong(LocalIndexStats::getQueryCount).sum()).isPositive();
                assertThat(provider.inspect("k0")).isEmpty();
                assertThat(provider.inspect("k5")).isPresent();
            }
        }

        @Test
        void releaseAllsPerKeyStep_leavesAKeyThatChangedHandsAlone() {
            String mapName = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", member(), mapName)) {
                provider.tryAcquire(List.of("anonymous"), null, null);
                provider.tryAcquire(List.of("other"), "other", null);
                provider.tryAcquire(List.of("mine"), "me", null);
                IMap<String, LockEntry> locks = member().getMap(mapName);
                // As if the index lookup had found these keys for "me" just before they changed hands.
                assertThat(locks.executeOnKey("anonymous", new LockProcessors.Release("me", false)).status())
                        .isEqualTo(Outcome.Status.NOT_DONE);
                assertThat(locks.executeOnKey("other", new LockProcessors.Release("me", false)).status())
                        .isEqualTo(Outcome.Status.NOT_DONE);
                assertThat(locks.executeOnKey("mine", new LockProcessors.Release("me", false)).status())
                        .isEqualTo(Outcome.Status.DONE);
                assertThat(provider.inspect("anonymous")).isPresent();
                assertThat(provider.inspect("other")).isPresent();
                assertThat(provider.inspect("mine")).isEmpty();
            }
        }

        @Test
        void releaseAll_clearsOnlyItsOwnMap_andTokensKeepIncreasing() {
            String mine = map();
            String theirs = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_a", client(), mine);
                    LockingProvider other = HazelcastProviderFactory.fromInstance("lp_b", client(), theirs)) {
                long before = ((Acquired) provider.tryAcquire(List.of("k"), "o", null)).fencingTokens().get("k");
                other.tryAcquire(List.of("k"), "o", null);
                long anonymous = ((Acquired) provider.tryAcquire(List.of("anonymous"), null, Duration.ofMinutes(5)))
                        .fencingTokens().get("anonymous");
                provider.releaseAll(null);
                assertThat(provider.inspect("k")).isEmpty();
                assertThat(provider.inspect("anonymous")).isEmpty();
                assertThat(other.inspect("k")).isPresent();
                long after = ((Acquired) provider.tryAcquire(List.of("k"), "o", null)).fencingTokens().get("k");
                assertThat(after).isGreaterThan(before);
                assertThat(((Acquired) provider.tryAcquire(List.of("anonymous"), null, null)).fencingTokens()
                        .get("anonymous")).isGreaterThan(anonymous);
            }
        }
    }

    @Nested
    class Waking {
        /** A provider whose waiters never re-check on their own within a test's time. */
        LockingProvider noPolling(String mapName) {
            return new HazelcastLockingProvider("lp_hazelcast", InstanceSource.borrowed(client()), mapName,
                    Duration.ofSeconds(5), TimeUnit.MINUTES.toMillis(10));
        }

        @Test
        void aReleaseWakesAWaiterThroughTheListener() throws Exception {
            String mapName = map();
            try (LockingProvider waiter = noPolling(mapName);
                    LockingProvider holder = HazelcastProviderFactory.fromInstance("lp_h", member(), mapName)) {
                holder.tryAcquire(List.of("k"), "holder", null);
                CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                    try {
                        waiter.awaitRelease(List.of("k"), Duration.ofMinutes(5));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                org.awaitility.Awaitility.await().until(((HazelcastLockingProvider) waiter)::hasWaiters);
                assertThat(waiting).isNotDone();
                holder.release(List.of("k"), "holder");
                waiting.get(60, TimeUnit.SECONDS);
                assertThat(waiter.tryAcquire(List.of("k"), "waiter", null)).isInstanceOf(Acquired.class);
            }
        }

        @Test
        void membersSendAnEventOnlyForAReleaseSomeoneWaitedFor() throws Exception {
            String mapName = map();
            List<Long> freedTokens = new java.util.concurrent.CopyOnWriteArrayList<>();
            IMap<String, LockEntry> locks = client().getMap(mapName);
            UUID listener = locks.addEntryListener((com.hazelcast.map.listener.EntryUpdatedListener<String, LockEntry>)
                    event -> freedTokens.add(event.getValue().token()), new ReleaseListener.Freed(), true);
            try (LockingProvider waiter = noPolling(mapName);
                    LockingProvider holder = HazelcastProviderFactory.fromInstance("lp_h", member(), mapName)) {
                // Nobody waits: taking and releasing the key sends nothing.
                holder.tryAcquire(List.of("k"), "holder", null);
                holder.release(List.of("k"), "holder");
                // Someone waits: the release sends one event.
                long second = ((Acquired) holder.tryAcquire(List.of("k"), "holder", null)).fencingTokens().get("k");
                CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                    try {
                        waiter.awaitRelease(List.of("k"), Duration.ofMinutes(5));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                org.awaitility.Awaitility.await().until(() -> locks.get("k").waited());
                holder.release(List.of("k"), "holder");
                waiting.get(60, TimeUnit.SECONDS);
                // Events of one key arrive in order: an event of the first release would be here already.
                org.awaitility.Awaitility.await().until(() -> !freedTokens.isEmpty());
                assertThat(freedTokens).containsExactly(second);
                // The next holder's lock is not marked: its release sends nothing again.
                holder.tryAcquire(List.of("k"), "holder", null);
                assertThat(locks.get("k").waited()).isFalse();
            } finally {
                locks.removeEntryListener(listener);
            }
        }

        @Test
        void aWaiterReturnsWhenTheHoldersLeaseRunsOut() throws Exception {
            String mapName = map();
            try (LockingProvider waiter = noPolling(mapName)) {
                waiter.tryAcquire(List.of("k"), "holder", Duration.ofSeconds(1));
                CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                    try {
                        waiter.awaitRelease(List.of("k"), Duration.ofMinutes(5));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                waiting.get(60, TimeUnit.SECONDS);
                assertThat(waiter.tryAcquire(List.of("k"), "waiter", null)).isInstanceOf(Acquired.class);
            }
        }

        @Test
        void clearingTheMapWakesEveryWaiter() throws Exception {
            String mapName = map();
            try (LockingProvider waiter = noPolling(mapName)) {
                waiter.tryAcquire(List.of("a"), "holder", null);
                waiter.tryAcquire(List.of("b"), null, null);
                CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                    try {
                        waiter.awaitRelease(List.of("a", "b"), Duration.ofMinutes(5));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                org.awaitility.Awaitility.await().until(((HazelcastLockingProvider) waiter)::hasWaiters);
                try (LockingProvider other = HazelcastProviderFactory.fromInstance("lp_other", member(), mapName)) {
                    other.releaseAll(null);
                }
                waiting.get(60, TimeUnit.SECONDS);
                assertThat(waiter.tryAcquire(List.of("a", "b"), "waiter", null)).isInstanceOf(Acquired.class);
            }
        }

        /** Waits in {@code awaitRelease} on another thread. */
        CompletableFuture<Void> awaitingRelease(LockingProvider waiter, String key) {
            return CompletableFuture.runAsync(() -> {
                try {
                    waiter.awaitRelease(List.of(key), Duration.ofMinutes(5));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        @Test
        void aWaiterThatWinsTheKey_wakesTheOtherWaitersOfItsProviderWhenItReleases() throws Exception {
            // The listener wakes one waiter per release it hears of, and hears only of locks a waiter marked. A
            // waiter that then wins holds a lock nobody marked: its release must wake the others itself.
            String mapName = map();
            try (LockingProvider waiters = noPolling(mapName);
                    LockingProvider holder = HazelcastProviderFactory.fromInstance("lp_h", member(), mapName)) {
                HazelcastLockingProvider provider = (HazelcastLockingProvider) waiters;
                holder.tryAcquire(List.of("k"), "holder", null);
                CompletableFuture<Void> first = awaitingRelease(waiters, "k");
                org.awaitility.Awaitility.await().until(() -> provider.sleepingWaiters() == 1);
                CompletableFuture<Void> second = awaitingRelease(waiters, "k");
                org.awaitility.Awaitility.await().until(() -> provider.sleepingWaiters() == 2);

                holder.release(List.of("k"), "holder");
                first.get(60, TimeUnit.SECONDS);
                assertThat(second).as("one release, one waiter woken").isNotDone();
                assertThat(waiters.tryAcquire(List.of("k"), "winner", null)).isInstanceOf(Acquired.class);
                waiters.release(List.of("k"), "winner");
                second.get(60, TimeUnit.SECONDS);
            }
        }

        @Test
        void closeWakesWaiters() throws Exception {
            String mapName = map();
            LockingProvider waiter = noPolling(mapName);
            waiter.tryAcquire(List.of("k"), "holder", null);
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                try {
                    waiter.awaitRelease(List.of("k"), Duration.ofMinutes(5));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            org.awaitility.Awaitility.await().until(((HazelcastLockingProvider) waiter)::hasWaiters);
            waiter.close();
            waiting.get(60, TimeUnit.SECONDS);
            assertThatThrownBy(() -> waiter.tryAcquire(List.of("k"), "x", null)).isInstanceOf(IllegalStateException.class);
        }
    }

    @Nested
    class Rollback {
        @Test
        void aConflictOnTheLastKey_leavesNoKeyBehind() {
            String mapName = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client(), mapName)) {
                long other = ((Acquired) provider.tryAcquire(List.of("k9"), "other", null)).fencingTokens().get("k9");
                List<String> keys = List.of("k1", "k2", "k3", "k9");
                assertThat(provider.tryAcquire(keys, "me", Duration.ofSeconds(30))).isEqualTo(new Conflict("k9"));
                IMap<String, LockEntry> locks = member().getMap(mapName);
                Map<String, LockEntry> entries = new HashMap<>(locks);
                // The rolled-back keys leave no entry; their tokens are spent: the next holder gets a higher one.
                assertThat(entries).containsOnlyKeys("k9")
                        .containsEntry("k9", LockEntry.held("other", other, LockEntry.NEVER));
                long next = ((Acquired) provider.tryAcquire(List.of("k1"), "me", null)).fencingTokens().get("k1");
                assertThat(next).isGreaterThan(other + 3);
            }
        }

        /**
         * Keys sent at once can refuse each other both ways; an owner refused once takes them one by one in
         * canonical order until it gets them, so two such calls cannot keep rolling each other back.
         */
        @Test
        void anOwnerRefusedOnce_takesTheKeysInOrder_untilItGetsThem() {
            String mapName = map();
            try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client(), mapName)) {
                HazelcastLockingProvider hz = (HazelcastLockingProvider) provider;
                assertThat(provider.tryAcquire(List.of("k2"), "other", null)).isInstanceOf(Acquired.class);
                List<String> keys = List.of("k1", "k2", "k3");
                assertThat(hz.takesKeysInOrder("me")).isFalse();
                assertThat(provider.tryAcquire(keys, "me", null)).isEqualTo(new Conflict("k2"));
                assertThat(hz.takesKeysInOrder("me")).isTrue();
                assertThat(provider.tryAcquire(keys, "me", null)).isEqualTo(new Conflict("k2"));
                assertThat(new HashMap<>(member().<String, LockEntry>getMap(mapName))).containsOnlyKeys("k2");
                assertThat(provider.release(List.of("k2"), "other")).isTrue();
                assertThat(provider.tryAcquire(keys, "me", null)).isInstanceOf(Acquired.class);
                assertThat(hz.takesKeysInOrder("me")).isFalse();
                assertThat(provider.inspect("k3").orElseThrow().ownerId()).isEqualTo("me");
            }
        }
    }

    /** Holds the partition thread of the key it runs on until {@link #RELEASE} opens; for the tests below. */
    static final class Blocking implements com.hazelcast.map.EntryProcessor<String, LockEntry, Boolean> {
        private static final long serialVersionUID = 1L;
        static final CountDownLatch STARTED = new CountDownLatch(1);
        static final CountDownLatch RELEASE = new CountDownLatch(1);

        @Override
        public Boolean process(Map.Entry<String, LockEntry> entry) {
            STARTED.countDown();
            try {
                return RELEASE.await(2, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class SlowMember {
        /** Answers no call on "k" until the tests are over: its partition thread is busy. */
        private final String mapName = map();
        private final CompletableFuture<Boolean> blocker = new CompletableFuture<>();
        /** Waits at most half a second for an answer. */
        private final LockingProvider impatient = new HazelcastLockingProvider("lp_impatient",
                InstanceSource.borrowed(client()), mapName, Duration.ofMillis(500));
        /** Waits two minutes for an answer. */
        private final LockingProvider patient = new HazelcastLockingProvider("lp_patient",
                InstanceSource.borrowed(client()), mapName, Duration.ofMinutes(2));

        @BeforeAll
        void blockThePartitionOfK() throws InterruptedException {
            // First use adds the index, on every partition: before one of them is blocked.
            impatient.inspect("warm-up");
            patient.inspect("warm-up");
            client().<String, LockEntry>getMap(mapName).submitToKey("k", new Blocking())
                    .whenComplete((done, failure) -> blocker.complete(done));
            assertThat(Blocking.STARTED.await(60, TimeUnit.SECONDS)).isTrue();
        }

        @AfterAll
        void letItGo() throws Exception {
            Blocking.RELEASE.countDown();
            assertThat(blocker.get(60, TimeUnit.SECONDS)).isTrue();
            impatient.close();
            patient.close();
        }

        @Test
        void aClientCallWithoutAnswer_failsWithProviderUnavailable_afterOperationTimeout_andLeavesNoInterrupt() {
            long start = System.nanoTime();
            assertThatThrownBy(() -> impatient.tryAcquire(List.of("k"), "o", Duration.ofSeconds(30)))
                    .isInstanceOf(ProviderUnavailableException.class).hasMessageContaining("within 500 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
        }

        @Test
        void anInterruptDuringAClientCall_endsItWithALockingException_andStaysSet() throws Exception {
            Thread caller = Thread.currentThread();
            CompletableFuture<Void> interrupter = CompletableFuture.runAsync(() -> {
                // Interrupt only once the caller waits inside Hazelcast's future for the answer.
                org.awaitility.Awaitility.await().until(() -> java.util.Arrays.stream(caller.getStackTrace())
                        .anyMatch(f -> f.getClassName().endsWith("InvocationFuture")));
                caller.interrupt();
            });
            try {
                assertThatThrownBy(() -> patient.release(List.of("k"), "o"))
                        .isInstanceOf(dev.locking.api.LockingException.class)
                        .isNotInstanceOf(ProviderUnavailableException.class).hasMessageContaining("interrupted");
                assertThat(Thread.currentThread().isInterrupted()).isTrue();
            } finally {
                Thread.interrupted();
                interrupter.get(60, TimeUnit.SECONDS);
            }
        }
    }
}
