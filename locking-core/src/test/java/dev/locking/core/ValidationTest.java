package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import dev.locking.memory.MemoryProviderFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input is rejected with IllegalArgumentException before any provider is called. */
class ValidationTest {
    private final TestProviders.CountingProvider provider =
            new TestProviders.CountingProvider(MemoryProviderFactory.newProvider("lp_counted"));
    private final LockingService locking = Locking.builder().provider(provider).defaultProvider("lp_counted").build();

    @AfterEach
    void close() {
        locking.close();
    }

    static Stream<Arguments> badKeys() {
        List<String> withNull = new ArrayList<>(Arrays.asList("a", null));
        return Stream.of(
                Arguments.of("null list", null, "keys must not be null"),
                Arguments.of("empty list", List.of(), "keys must not be empty"),
                Arguments.of("null key", withNull, "key must not be null"),
                Arguments.of("empty key", List.of("a", ""), "key must not be empty"),
                Arguments.of("1025 characters", List.of("a", "k".repeat(1025)), "at most 1024 characters, got 1025"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badKeys")
    void badKeys_areRejected_byEveryCall_andNeverReachTheProvider(String name, Collection<String> keys, String message) {
        List<ThrowingCallable> calls = List.of(
                () -> locking.acquire(keys, AcquireOptions.DEFAULTS),
                () -> locking.release(keys, ReleaseOptions.DEFAULTS),
                () -> locking.execute(keys, lock -> "ran"),
                () -> locking.execute(keys, lock -> "ran", ExecuteOptions.DEFAULTS));
        for (ThrowingCallable call : calls) {
            assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
        }
        assertThat(provider.calls).hasValue(0);
    }

    @Test
    void aKeyOfExactly1024Characters_isAccepted() {
        String key = "k".repeat(1024);
        assertThat(locking.acquire(key).keys()).containsExactly(key);
    }

    @Test
    void singleKeyOverloads_rejectNullAndEmptyKeys() {
        assertThatThrownBy(() -> locking.acquire((String) null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> locking.release("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> locking.execute((String) null, lock -> 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> locking.inspect("")).isInstanceOf(IllegalArgumentException.class);
        assertThat(provider.calls).hasValue(0);
    }

    @Test
    void nonPositiveExpire_isRejected_namingTheValueAndKey() {
        for (Duration bad : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
            assertThatThrownBy(() -> locking.acquire("order-17", AcquireOptions.builder().expire(bad).build()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expire must be positive: " + bad + " (key \"order-17\")");
            assertThatThrownBy(() -> locking.execute("order-17", lock -> 1, ExecuteOptions.builder().expire(bad).build()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("expire must be positive");
        }
        assertThat(provider.calls).hasValue(0);
        assertThat(locking.inspect("order-17")).isEmpty();
    }

    @Test
    void emptyOrReservedOwnerIds_areRejected() {
        assertThatThrownBy(() -> locking.acquire("k", AcquireOptions.builder().ownerId("").build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ownerId must not be empty");
        assertThatThrownBy(() -> locking.acquire("k", AcquireOptions.builder().ownerId("exec:x").build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> locking.releaseAll(ReleaseAllOptions.builder().ownerId("").build()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(provider.calls).hasValue(0);
    }

    static Stream<Arguments> malformedKeys() {
        return Stream.of(
                Arguments.of("a lone high surrogate", "\uD800", 0),
                Arguments.of("a lone low surrogate inside", "ab\uDC00c", 2),
                Arguments.of("a high surrogate at the end", "order-\uD83D", 6),
                Arguments.of("two high surrogates", "\uD83D\uD83D\uDE00", 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedKeys")
    void keysWithAnUnpairedSurrogate_areRejected_byEveryCall_namingThePosition(String name, String key, int index) {
        List<ThrowingCallable> calls = List.of(
                () -> locking.acquire(key),
                () -> locking.acquire(List.of("ok", key), AcquireOptions.builder().ownerId("o").build()),
                () -> locking.release(key),
                () -> locking.release(List.of(key, "ok"), ReleaseOptions.DEFAULTS),
                () -> locking.execute(key, lock -> "ran"),
                () -> locking.execute(List.of("ok", key), lock -> "ran", ExecuteOptions.DEFAULTS),
                () -> locking.inspect(key),
                () -> locking.inspect(key, "lp_counted"));
        for (ThrowingCallable call : calls) {
            assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("key must be well-formed UTF-16")
                    .hasMessageContaining("unpaired surrogate")
                    .hasMessageContaining("at index " + index);
        }
        assertThat(provider.calls).hasValue(0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedKeys")
    void ownerIdsWithAnUnpairedSurrogate_areRejected_byEveryCall_namingThePosition(String name, String owner,
            int index) {
        for (ThrowingCallable call : everyCallTaking(owner)) {
            assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("ownerId must be well-formed UTF-16")
                    .hasMessageContaining("at index " + index);
        }
        assertThat(provider.calls).hasValue(0);
    }

    /** acquire, release and releaseAll with {@code owner} as their owner id. */
    private List<ThrowingCallable> everyCallTaking(String owner) {
        return List.of(
                () -> locking.acquire("k", AcquireOptions.builder().ownerId(owner).build()),
                () -> locking.release("k", ReleaseOptions.builder().ownerId(owner).build()),
                () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId(owner).build()));
    }

    @Test
    void ownerIdsOverTheLimit_areRejected_byEveryCall() {
        String owner = "o".repeat(LockingService.MAX_OWNER_ID_LENGTH + 1);
        for (ThrowingCallable call : everyCallTaking(owner)) {
            assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("ownerId must be at most 1024 characters, got 1025");
        }
        assertThat(provider.calls).hasValue(0);
    }

    @Test
    void wellFormedSurrogatePairs_andOwnersOfExactly1024Characters_areAccepted() {
        String key = "\uD83D\uDE00-" + "k".repeat(1021);
        String owner = "\uD83D\uDE00" + "o".repeat(1022);
        assertThat(key).hasSize(1024);
        assertThat(owner).hasSize(1024);
        assertThat(locking.acquire(List.of(key), AcquireOptions.builder().ownerId(owner).build()).ownerId())
                .isEqualTo(owner);
        assertThat(locking.inspect(key).orElseThrow().ownerId()).isEqualTo(owner);
        assertThat(locking.release(List.of(key), ReleaseOptions.builder().ownerId(owner).build())).isTrue();
    }

    @Test
    void aNullJob_isRejected() {
        assertThatThrownBy(() -> locking.execute("k", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("job must not be null");
        assertThat(provider.calls).hasValue(0);
    }

    @Test
    void duplicateKeys_countOnce_andComeBackSorted() {
        assertThat(locking.acquire(List.of("b", "a", "b"), AcquireOptions.DEFAULTS).keys()).containsExactly("a", "b");
        assertThat(locking.<List<String>, RuntimeException>execute(List.of("d", "c", "d"), lock -> lock.keys()))
                .containsExactly("c", "d");
    }

    @Test
    void nullOptions_meanTheDefaults() {
        assertThat(locking.acquire("k", null).ownerId()).isNull();
        assertThat(locking.release("k", null)).isTrue();
        int result = locking.execute("k", lock -> 7, null);
        assertThat(result).isEqualTo(7);
        locking.releaseAll(null);
    }
}
