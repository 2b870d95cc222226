package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Data in the lock map that this provider did not write (another program's value, an operator's mistake):
 * calls on that key fail with a {@link LockingException} naming it and change nothing; every other key,
 * {@code releaseAll(owner)} and {@code releaseAll()} carry on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForeignDataTest {

    private final TestMembers.MemberAndClient cluster = TestMembers.MemberAndClient.start("foreign");

    @AfterAll
    void stop() {
        cluster.close();
    }

    private HazelcastInstance client() {
        return cluster.client();
    }

    private static void assertNamesTheKey(Throwable thrown, String key) {
        assertThat(thrown).isInstanceOf(LockingException.class).isNotInstanceOf(ProviderUnavailableException.class);
        assertThat(thrown.getMessage()).contains("\"" + key + "\"").contains("not a lock");
    }

    @Test
    void callsOnAForeignKey_failNamingIt_andChangeNothing() throws Exception {
        String mapName = "map-" + UUID.randomUUID();
        IMap<String, Object> raw = client().getMap(mapName);
        raw.put("f", "someone else's value");
        try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client(), mapName)) {
            assertThatThrownBy(() -> provider.tryAcquire(List.of("a", "f"), "o", Duration.ofSeconds(30)))
                    .satisfies(e -> assertNamesTheKey(e, "f"));
            assertThat(provider.inspect("a")).as("the first key is rolled back").isEmpty();
            assertThatThrownBy(() -> provider.tryAcquire(List.of("f"), null, null))
                    .satisfies(e -> assertNamesTheKey(e, "f"));
            assertThatThrownBy(() -> provider.inspect("f")).satisfies(e -> assertNamesTheKey(e, "f"));
            assertThatThrownBy(() -> provider.release(List.of("f"), null)).satisfies(e -> assertNamesTheKey(e, "f"));
            assertThat(provider.extend(List.of("f"), "o", Duration.ofSeconds(30))).isFalse();
            long start = System.nanoTime();
            provider.awaitRelease(List.of("f"), Duration.ofSeconds(20)); // nothing to wait for: the acquire fails
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            assertThat(raw.get("f")).isEqualTo("someone else's value");
        }
    }

    @Test
    void foreignDataAtOneKey_breaksNeitherReleaseAllOfAnOwner_norReleaseAll() {
        String mapName = "map-" + UUID.randomUUID();
        IMap<String, Object> raw = client().getMap(mapName);
        raw.put("number", 42);
        raw.put("text", "not a lock");
        try (LockingProvider provider = HazelcastProviderFactory.fromInstance("lp_hazelcast", client(), mapName)) {
            assertThat(provider.tryAcquire(List.of("x", "y"), "o", null)).isInstanceOf(Acquired.class);
            assertThat(provider.tryAcquire(List.of("z"), "other", null)).isInstanceOf(Acquired.class);
            provider.releaseAll("o");
            assertThat(provider.inspect("x")).isEmpty();
            assertThat(provider.inspect("y")).isEmpty();
            assertThat(provider.inspect("z")).isPresent();

            // With the foreign entries gone, the owner index can be built; a JSON value that has an owner
            // attribute is accepted by it, and must still never be taken for a lock.
            raw.delete("number");
            raw.delete("text");
            assertThat(provider.tryAcquire(List.of("x"), "o", null)).isInstanceOf(Acquired.class);
            provider.releaseAll("o");
            raw.put("json", new HazelcastJsonValue("{\"owner\":\"o\",\"token\":7}"));
            assertThat(provider.tryAcquire(List.of("x", "y"), "o", null)).isInstanceOf(Acquired.class);
            provider.releaseAll("o");
            assertThat(provider.inspect("x")).isEmpty();
            assertThatThrownBy(() -> provider.inspect("json")).satisfies(e -> assertNamesTheKey(e, "json"));

            // Once the map is indexed, Hazelcast itself refuses a value without an owner attribute.
            assertThatThrownBy(() -> raw.put("text", "not a lock either")).isInstanceOf(RuntimeException.class);
            raw.put("other json", new HazelcastJsonValue("{\"note\":1}"));
            provider.releaseAll(null);
            assertThat(provider.inspect("z")).isEmpty();
            assertThat(raw.get("json")).isEqualTo(new HazelcastJsonValue("{\"owner\":\"o\",\"token\":7}"));
            assertThat(raw.get("other json")).isEqualTo(new HazelcastJsonValue("{\"note\":1}"));
        }
    }
}
