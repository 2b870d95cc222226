package dev.locking.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.ProviderConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The factory gives every provider of one instance id in a JVM the same lock table, so two services of
 * one JVM exclude each other on {@code lp_memory}, as the README promises.
 */
class JvmWideTableTest {

    private record Config(String id, Map<String, String> options) implements ProviderConfig {
        @Override
        public Optional<String> option(String name) {
            return Optional.ofNullable(options.get(name));
        }
    }

    private static LockingProvider create(String id) {
        return new MemoryProviderFactory().create(new Config(id, Map.of()));
    }

    private static String uniqueId() {
        return "lp_mem" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void twoProvidersOfOneId_shareTheirLocks() {
        String id = uniqueId();
        try (LockingProvider first = create(id); LockingProvider second = create(id)) {
            assertThat(first.tryAcquire(List.of("k"), "alice", null)).isInstanceOf(AcquireResult.Acquired.class);

            assertThat(second.tryAcquire(List.of("k"), "bob", null)).isEqualTo(new AcquireResult.Conflict("k"));
            assertThat(second.inspect("k")).hasValueSatisfying(info -> assertThat(info.ownerId()).isEqualTo("alice"));
            assertThat(second.release(List.of("k"), "alice")).isTrue();
            assertThat(first.inspect("k")).isEmpty();
        }
    }

    @Test
    void theProvidersOfOneId_handOffThroughTheirSharedQueues() throws Exception {
        String id = uniqueId();
        Duration lease = Duration.ofSeconds(30);
        try (LockingProvider first = create(id); LockingProvider second = create(id)) {
            assertThat(first.handsOff()).as("the factory's provider hands off as the table does").isTrue();
            assertThat(first.acquireOrQueue("k", "exec:a", lease, lease)).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(second.acquireOrQueue("k", "exec:b", lease, lease)).isEqualTo(new AcquireResult.Conflict("k"));

            first.leaveQueue("k", "exec:a"); // a holds k: leaving releases it, which hands it to b
            AcquireResult.Acquired grant = second.awaitGrant("k", "exec:b", lease);
            assertThat(grant).isNotNull();
            assertThat(first.inspect("k")).hasValueSatisfying(info -> assertThat(info.ownerId()).isEqualTo("exec:b"));
            second.leaveQueue("k", "exec:b");
            assertThat(first.inspect("k")).isEmpty();
        }
    }

    @Test
    void tokensOfOneId_keepIncreasingAcrossItsProviders() {
        String id = uniqueId();
        try (LockingProvider first = create(id); LockingProvider second = create(id)) {
            long t1 = Providers.token(first.tryAcquire(List.of("k"), null, null), "k");
            first.release(List.of("k"), null);
            long t2 = Providers.token(second.tryAcquire(List.of("k"), null, null), "k");
            assertThat(t2).isGreaterThan(t1);
        }
    }

    @Test
    void differentIds_haveDifferentTables() {
        try (LockingProvider first = create(uniqueId()); LockingProvider second = create(uniqueId())) {
            first.tryAcquire(List.of("k"), "alice", null);

            assertThat(second.tryAcquire(List.of("k"), "bob", null)).isInstanceOf(AcquireResult.Acquired.class);
        }
    }

    @Test
    void closingOneProvider_keepsTheTableForTheOthers_andMakesOnlyItselfUnusable() {
        String id = uniqueId();
        LockingProvider first = create(id);
        try (LockingProvider second = create(id)) {
            first.tryAcquire(List.of("k"), "alice", null);
            first.close();
            first.close(); // idempotent: the table's count drops once

            assertThat(second.inspect("k")).isPresent();
            assertThatThrownBy(() -> first.inspect("k")).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void theTable_isDroppedWhenItsLastProviderCloses() {
        String id = uniqueId();
        try (LockingProvider first = create(id)) {
            first.tryAcquire(List.of("k"), "alice", null);
        }
        try (LockingProvider again = create(id)) {
            assertThat(again.inspect("k")).isEmpty();
        }
    }
}
