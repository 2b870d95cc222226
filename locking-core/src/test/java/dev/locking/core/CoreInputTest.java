package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockHandle;
import dev.locking.api.LockInfo;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderNotFoundException;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * What the core decides before any provider is called: which provider an id names, and which input it refuses.
 * These checks ran once per provider setup in the conformance kit; they pass or fail the same whatever the
 * provider, so they run here once, against lp_memory behind a counting wrapper (the kit keeps one check per
 * provider that refused input leaves nothing in its backend).
 */
class CoreInputTest {
    private static final String DEFAULT_ID = "lp_core";
    private static final String OTHER_ID = "lp_other";

    /** The backend itself, for looking at keys without going through the counting wrapper. */
    private final LockingProvider memory = MemoryProviderFactory.newProvider(DEFAULT_ID);
    private final TestProviders.CountingProvider counted = new TestProviders.CountingProvider(memory);
    private final LockingService locking = Locking.builder()
            .provider(counted)
            .provider(MemoryProviderFactory.newProvider(OTHER_ID))
            .defaultProvider(DEFAULT_ID)
            .build();

    @AfterEach
    void close() {
        locking.close();
    }

    private static AcquireOptions owner(@Nullable String ownerId) {
        return AcquireOptions.builder().ownerId(ownerId).build();
    }

    private static AcquireOptions owner(@Nullable String ownerId, Duration expire) {
        return AcquireOptions.builder().ownerId(ownerId).expire(expire).build();
    }

    private static ReleaseOptions by(@Nullable String ownerId) {
        return ReleaseOptions.builder().ownerId(ownerId).build();
    }

    private void assertHeld(String key) {
        Optional<LockInfo> info = memory.inspect(key);
        assertThat(info).as("inspect(%s)", key).isPresent();
        assertThat(info.get().key()).isEqualTo(key);
    }

    private void assertFree(String... keys) {
        for (String k : keys) {
            assertThat(memory.inspect(k)).as("inspect(%s) of a key that must be free", k).isEmpty();
        }
    }

    /** A null provider id means the default provider; an unknown one is refused naming the ids there are. */
    @Nested
    class ProviderResolution {

        @Test
        void theDefaultProvider_isKnownAndTheDefault() {
            assertThat(locking.providerIds()).contains(DEFAULT_ID, OTHER_ID);
            assertThat(locking.defaultProviderId()).isEqualTo(DEFAULT_ID);
        }

        @Test
        void aNullProvider_meansTheDefault_andSoDoesItsId() {
            String a = "a";
            String b = "b";
            Lease lease = locking.acquire(a, AcquireOptions.builder().provider(null).build());
            assertThat(lease.providerId()).isEqualTo(DEFAULT_ID);
            assertHeld(a);
            assertThat(locking.inspect(a, null)).isPresent();
            assertThat(locking.inspect(a, DEFAULT_ID)).isPresent();
            assertThat(locking.release(a, ReleaseOptions.builder().provider(null).build())).isTrue();

            Lease named = locking.acquire(b, AcquireOptions.builder().provider(DEFAULT_ID).build());
            assertThat(named.providerId()).isEqualTo(DEFAULT_ID);
            assertThat(locking.release(b, ReleaseOptions.builder().provider(DEFAULT_ID).build())).isTrue();

            String viaExecute = locking.execute(a, LockHandle::providerId,
                    ExecuteOptions.builder().provider(null).build());
            assertThat(viaExecute).isEqualTo(DEFAULT_ID);
            locking.acquire(b, owner("owner-1"));
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-1").provider(null).build());
            assertFree(a, b);
        }

        @Test
        void anUnknownProvider_isRejectedWithTheKnownIds_andNothingReachesTheProvider() {
            String a = "a";
            String unknown = "lp_no_such_provider";
            AtomicBoolean ran = new AtomicBoolean();
            int before = counted.calls.get();
            List<ThrowingCallable> calls = List.of(
                    () -> locking.acquire(a, AcquireOptions.builder().provider(unknown).build()),
                    () -> locking.execute(a, lock -> ran.getAndSet(true), ExecuteOptions.builder().provider(unknown).build()),
                    () -> locking.release(a, ReleaseOptions.builder().provider(unknown).build()),
                    () -> locking.releaseAll(ReleaseAllOptions.builder().provider(unknown).build()),
                    () -> locking.inspect(a, unknown));
            for (ThrowingCallable call : calls) {
                Throwable thrown = catchThrowable(call);
                assertThat(thrown).isInstanceOf(ProviderNotFoundException.class);
                ProviderNotFoundException e = (ProviderNotFoundException) thrown;
                assertThat(e.getProviderId()).isEqualTo(unknown);
                assertThat(e.getAvailable()).containsExactlyInAnyOrderElementsOf(locking.providerIds());
                assertThat(e.getMessage()).contains(unknown);
                for (String id : locking.providerIds()) {
                    assertThat(e.getMessage()).as("the message names the known ids").contains(id);
                }
            }
            assertThat(ran).isFalse();
            assertThat(counted.calls).hasValue(before);
            assertFree(a);
        }
    }

    /** Bad keys, expiries and owners: IllegalArgumentException, no provider call, the job never runs. */
    @Nested
    class BadInput {

        @TestFactory
        @SuppressWarnings("NullAway") // nulls are the point
        Stream<DynamicTest> isRejectedBeforeAnyProviderIsCalled() {
            String good = "good";
            String tooLong = "k".repeat(LockingService.MAX_KEY_LENGTH + 1);
            List<String> nullKey = Arrays.asList(good, null);
            AtomicBoolean ran = new AtomicBoolean();
            LockedJob<Boolean, RuntimeException> job = lock -> ran.getAndSet(true);
            Map<String, ThrowingCallable> cases = new LinkedHashMap<>();
            cases.put("acquire(null list)", () -> locking.acquire((List<String>) null, AcquireOptions.DEFAULTS));
            cases.put("acquire(empty list)", () -> locking.acquire(List.of(), AcquireOptions.DEFAULTS));
            cases.put("acquire(null key in list)", () -> locking.acquire(nullKey, AcquireOptions.DEFAULTS));
            cases.put("acquire(null key)", () -> locking.acquire((String) null));
            cases.put("acquire(empty key)", () -> locking.acquire(List.of(good, ""), AcquireOptions.DEFAULTS));
            cases.put("acquire(1025-char key)", () -> locking.acquire(List.of(good, tooLong), AcquireOptions.DEFAULTS));
            cases.put("acquire(expire zero)", () -> locking.acquire(good, owner("owner-1", Duration.ZERO)));
            cases.put("acquire(expire negative)", () -> locking.acquire(good, owner(null, Duration.ofSeconds(-1))));
            cases.put("execute(null list)", () -> locking.execute((List<String>) null, job));
            cases.put("execute(empty list)", () -> locking.execute(List.of(), job));
            cases.put("execute(null key in list)", () -> locking.execute(nullKey, job));
            cases.put("execute(null key)", () -> locking.execute((String) null, job));
            cases.put("execute(empty key)", () -> locking.execute(List.of(good, ""), job));
            cases.put("execute(1025-char key)", () -> locking.execute(List.of(tooLong, good), job));
            cases.put("execute(expire zero)",
                    () -> locking.execute(good, job, ExecuteOptions.builder().expire(Duration.ZERO).build()));
            cases.put("execute(expire negative)",
                    () -> locking.execute(good, job, ExecuteOptions.builder().expire(Duration.ofMillis(-1)).build()));
            cases.put("release(null list)", () -> locking.release((List<String>) null, ReleaseOptions.DEFAULTS));
            cases.put("release(empty list)", () -> locking.release(List.of(), ReleaseOptions.DEFAULTS));
            cases.put("release(null key in list)", () -> locking.release(nullKey, ReleaseOptions.DEFAULTS));
            cases.put("release(null key)", () -> locking.release((String) null));
            cases.put("release(empty key)", () -> locking.release(""));
            cases.put("release(1025-char key)", () -> locking.release(List.of(good, tooLong), ReleaseOptions.DEFAULTS));
            cases.put("inspect(null key)", () -> locking.inspect((String) null));
            cases.put("inspect(empty key)", () -> locking.inspect(""));
            cases.put("inspect(1025-char key)", () -> locking.inspect(tooLong));
            return cases.entrySet().stream().map(c -> DynamicTest.dynamicTest(c.getKey(), () -> {
                int before = counted.calls.get();
                assertThatThrownBy(c.getValue()).isInstanceOf(IllegalArgumentException.class);
                assertThat(counted.calls).as("calls that reached the provider").hasValue(before);
                assertThat(ran).as("the job ran").isFalse();
                assertFree(good);
            }));
        }

        /**
         * A key or owner id that is not well-formed UTF-16 (a lone surrogate) cannot be stored faithfully by
         * most backends, so the core refuses it, as it refuses an owner id over 1024 characters.
         */
        @TestFactory
        Stream<DynamicTest> loneSurrogatesAndOverlongOwners_areRejected_beforeAnyProviderCall() {
            Map<String, String> malformed = new LinkedHashMap<>();
            malformed.put("a lone high surrogate", "\uD800");
            malformed.put("a lone low surrogate inside", "a\uDC00b");
            malformed.put("a high surrogate at the end", "ab\uD83D");
            malformed.put("a low surrogate at the start", "\uDE00ab");
            malformed.put("a reversed pair", "\uDE00\uD83D");
            AtomicBoolean ran = new AtomicBoolean();
            LockedJob<Boolean, RuntimeException> job = lock -> ran.getAndSet(true);
            // Each case gets a good key of its own (and a bad key made from it), so that a call wrongly let
            // through spoils no other case.
            Map<String, Function<String, ThrowingCallable>> cases = new LinkedHashMap<>();
            malformed.forEach((what, bad) -> {
                cases.put("acquire(key with " + what + ")", good -> () -> locking.acquire(good + bad));
                cases.put("acquire([good key, key with " + what + "])",
                        good -> () -> locking.acquire(List.of(good, good + bad), owner("owner-1")));
                cases.put("execute(key with " + what + ")", good -> () -> locking.execute(good + bad, job));
                cases.put("release(key with " + what + ")", good -> () -> locking.release(good + bad));
                cases.put("inspect(key with " + what + ")", good -> () -> locking.inspect(good + bad));
                cases.put("inspect(key with " + what + ", provider)",
                        good -> () -> locking.inspect(good + bad, DEFAULT_ID));
                String badOwner = "owner" + bad;
                cases.put("acquire(owner with " + what + ")", good -> () -> locking.acquire(good, owner(badOwner)));
                cases.put("release(owner with " + what + ")", good -> () -> locking.release(good, by(badOwner)));
                cases.put("releaseAll(owner with " + what + ")",
                        good -> () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId(badOwner).build()));
            });
            String overlong = "o".repeat(LockingService.MAX_OWNER_ID_LENGTH + 1);
            cases.put("acquire(1025-char owner)",
                    good -> () -> locking.acquire(good, owner(overlong, Duration.ofSeconds(30))));
            cases.put("release(1025-char owner)", good -> () -> locking.release(good, by(overlong)));
            cases.put("releaseAll(1025-char owner)",
                    good -> () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId(overlong).build()));
            AtomicInteger n = new AtomicInteger();
            return cases.entrySet().stream().map(c -> DynamicTest.dynamicTest(c.getKey(), () -> {
                String good = "good-" + n.incrementAndGet();
                int before = counted.calls.get();
                assertThatThrownBy(c.getValue().apply(good)).isInstanceOf(IllegalArgumentException.class);
                assertThat(counted.calls).as("calls that reached the provider").hasValue(before);
                assertThat(ran).as("the job ran").isFalse();
                assertFree(good);
            }));
        }
    }
}
