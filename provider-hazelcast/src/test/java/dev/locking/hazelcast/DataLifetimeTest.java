package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * How long a key's data lives, and that its fencing tokens never go back: not after its data is gone, and
 * not after the whole cluster restarted without its data.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DataLifetimeTest {

    private final TestMembers.MemberAndClient cluster = TestMembers.MemberAndClient.start("lifetime");

    @AfterAll
    void stop() {
        cluster.close();
    }

    private HazelcastInstance member() {
        return cluster.member();
    }

    private static long token(AcquireResult result, String key) {
        assertThat(result).as(key).isInstanceOf(Acquired.class);
        return ((Acquired) result).fencingTokens().get(key);
    }

    @Test
    void tokensNeverGoBack_whenEveryMemberIsGoneAndANewClusterStartsEmpty() {
        String cluster = TestMembers.clusterName("restart");
        long before = 0;
        HazelcastInstance first = Hazelcast.newHazelcastInstance(TestMembers.memberConfig(cluster,
                TestMembers.freePort(), List.of()));
        try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", first)) {
            for (int i = 0; i < 5; i++) {
                before = token(provider.tryAcquire(List.of("k"), "o", Duration.ofSeconds(30)), "k");
                provider.release(List.of("k"), "o");
            }
            token(provider.tryAcquire(List.of("k"), "o", Duration.ofSeconds(30)), "k");
            before = provider.inspect("k").orElseThrow().fencingToken();
        } finally {
            first.shutdown(); // the only member: the cluster and all its data are gone
        }
        HazelcastInstance second = Hazelcast.newHazelcastInstance(TestMembers.memberConfig(cluster,
                TestMembers.freePort(), List.of()));
        try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", second)) {
            assertThat(second.getMap(HazelcastProviderFactory.DEFAULT_MAP_NAME).size()).isZero();
            long after = token(provider.tryAcquire(List.of("k"), "p", Duration.ofSeconds(30)), "k");
            assertThat(after).as("token after the whole cluster restarted empty").isGreaterThan(before);
        } finally {
            second.shutdown();
        }
    }

    @Test
    void tokensStrictlyIncrease_underQuickReacquire_andAfterALapse() {
        String mapName = "map-" + UUID.randomUUID();
        try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", member(), mapName)) {
            long last = 0;
            for (int i = 0; i < 300; i++) {
                long token = token(provider.tryAcquire(List.of("k"), null, null), "k");
                assertThat(token).isGreaterThan(last);
                last = token;
                provider.release(List.of("k"), null);
            }
            long leased = token(provider.tryAcquire(List.of("k"), "o", Duration.ofMillis(50)), "k");
            assertThat(leased).isGreaterThan(last);
            await().atMost(Duration.ofSeconds(10)).until(() -> provider.inspect("k").isEmpty());
            assertThat(token(provider.tryAcquire(List.of("k"), "p", null), "k")).isGreaterThan(leased);
        }
    }

    @Test
    void aReleaseSomeoneWaitedFor_wakesTheWaiter_andItsFreeEntryGoesAfterTheAfterlife() throws Exception {
        String mapName = "map-" + UUID.randomUUID();
        IMap<String, Object> map = member().getMap(mapName);
        try (LockingProvider holder = HazelcastProviderFactory.fromInstance("lp_hazelcast", member(), mapName);
                LockingProvider waiter = HazelcastProviderFactory.fromInstance("lp_hazelcast",
                        cluster.client(), mapName)) {
            long first = token(holder.tryAcquire(List.of("k"), "holder", null), "k");
            CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
                try {
                    waiter.awaitRelease(List.of("k"), Duration.ofMinutes(5));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> ((LockEntry) map.get("k")).waited());
            assertThat(holder.release(List.of("k"), "holder")).isTrue();
            waiting.get(30, TimeUnit.SECONDS);
            assertThat(map.get("k")).as("a free entry for the waiters").isEqualTo(LockEntry.free(first).withWaited(true));
            assertThat(map.getEntryView("k").getTtl()).isEqualTo(LockEntry.ENDED_LOCK_TTL_MILLIS);
            await().atMost(Duration.ofSeconds(60)).until(() -> !map.containsKey("k"));
            assertThat(token(waiter.tryAcquire(List.of("k"), "waiter", null), "k")).isGreaterThan(first);
        }
    }

    @Test
    void releasedAndLapsedKeys_leaveNothingBehind_withinABoundedTime_whileHeldOnesStay() {
        String mapName = "map-" + UUID.randomUUID();
        IMap<String, Object> map = member().getMap(mapName);
        try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast",
                cluster.client(), mapName)) {
            for (int i = 0; i < 1000; i++) {
                token(provider.tryAcquire(List.of("released-" + i), "o", Duration.ofSeconds(30)), "released-" + i);
                assertThat(provider.release(List.of("released-" + i), "o")).isTrue();
            }
            for (int i = 0; i < 200; i++) {
                List<String> keys = List.of("anonymous-" + i + "-a", "anonymous-" + i + "-b");
                assertThat(provider.tryAcquire(keys, null, null)).isInstanceOf(Acquired.class);
                assertThat(provider.release(keys, null)).isTrue();
            }
            for (int i = 0; i < 100; i++) {
                token(provider.tryAcquire(List.of("bulk-" + i), "bulk", null), "bulk-" + i);
            }
            provider.releaseAll("bulk");
            for (int i = 0; i < 100; i++) {
                token(provider.tryAcquire(List.of("every-" + i), "any", Duration.ofMinutes(5)), "every-" + i);
            }
            provider.releaseAll(null);
            token(provider.tryAcquire(List.of("held-forever"), "keeper", null), "held-forever");
            token(provider.tryAcquire(List.of("held-leased"), "keeper", Duration.ofMinutes(5)), "held-leased");
            assertThat(map.keySet()).as("released keys go at once").containsExactlyInAnyOrder("held-forever",
                    "held-leased");
            // Locks whose lease lapses and that nobody touches again go with their TTL, a few seconds later.
            for (int i = 0; i < 200; i++) {
                token(provider.tryAcquire(List.of("lapsed-" + i), "o", Duration.ofMillis(200)), "lapsed-" + i);
            }
            assertThat(map.size()).isEqualTo(202);

            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> assertThat(map.keySet()).containsExactlyInAnyOrder("held-forever",
                            "held-leased"));
            assertThat(provider.inspect("held-forever")).isPresent();
            assertThat(provider.inspect("held-leased")).isPresent();
        }
    }
}
