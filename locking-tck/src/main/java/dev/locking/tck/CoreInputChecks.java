package dev.locking.tck;

import static dev.locking.tck.LockingProviderConformance.PROVIDER_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockHandle;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderNotFoundException;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The kit's checks of the core in front of the provider: provider resolution by id, and bad input refused before
 * it reaches the provider.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class CoreInputChecks {

    private CoreInputChecks() {}

    abstract static class Providers extends KitGroup {

        Providers(KitFixture kit) {
            super(kit);
        }

        @Test
        void theProviderUnderTest_isKnownAndTheDefault() {
            assertThat(locking.providerIds()).contains(PROVIDER_ID);
            assertThat(locking.defaultProviderId()).isEqualTo(PROVIDER_ID);
        }

        @Test
        void aNullProvider_meansTheDefault_andSoDoesItsId() {
            String a = key("a");
            String b = key("b");
            Lease lease = locking.acquire(a, AcquireOptions.builder().provider(null).build());
            assertThat(lease.providerId()).isEqualTo(PROVIDER_ID);
            assertHeld(a);
            assertThat(locking.inspect(a, null)).isPresent();
            assertThat(locking.inspect(a, PROVIDER_ID)).isPresent();
            assertThat(locking.release(a, ReleaseOptions.builder().provider(null).build())).isTrue();

            Lease named = locking.acquire(b, AcquireOptions.builder().provider(PROVIDER_ID).build());
            assertThat(named.providerId()).isEqualTo(PROVIDER_ID);
            assertThat(locking.release(b, ReleaseOptions.builder().provider(PROVIDER_ID).build())).isTrue();

            String viaExecute = locking.execute(a, LockHandle::providerId,
                    ExecuteOptions.builder().provider(null).build());
            assertThat(viaExecute).isEqualTo(PROVIDER_ID);
            locking.acquire(b, owner("owner-1"));
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-1").provider(null).build());
            assertFree(a, b);
        }

        @Test
        void anUnknownProvider_isRejectedWithTheKnownIds_andNothingReachesTheProvider() {
            String a = key("a");
            String unknown = "lp_no_such_provider";
            AtomicBoolean ran = new AtomicBoolean();
            CountingProvider.Calls before = counted.calls();
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
            assertThat(counted.calls()).isEqualTo(before);
            assertFree(a);
        }
    }

    abstract static class BadInput extends KitGroup {

        BadInput(KitFixture kit) {
            super(kit);
        }

        @TestFactory
        @SuppressWarnings("NullAway") // nulls are the point
        Stream<DynamicTest> isRejectedBeforeAnyProviderIsCalled() {
            String good = key("good");
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
                CountingProvider.Calls before = counted.calls();
                assertThatThrownBy(c.getValue()).isInstanceOf(IllegalArgumentException.class);
                assertThat(counted.calls()).as("calls that reached the provider").isEqualTo(before);
                assertThat(ran).as("the job ran").isFalse();
                assertFree(good);
            }));
        }

        @Test
        void aKeyOf1024Characters_isAccepted() {
            String longest = (prefix + "k".repeat(LockingService.MAX_KEY_LENGTH)).substring(0, LockingService.MAX_KEY_LENGTH);
            Lease lease = locking.acquire(longest);
            assertThat(lease.keys()).containsExactly(longest);
            assertHeld(longest);
            assertThat(locking.release(longest)).isTrue();
        }
    }
}
