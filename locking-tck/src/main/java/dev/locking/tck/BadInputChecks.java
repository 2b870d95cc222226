package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseAllOptions;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The kit's check that input the core refuses leaves nothing in this provider's backend, and that the longest
 * key the core accepts is one the backend can hold. Which input is refused, with which message, is the core's
 * own rule and is checked in the core's tests ({@code CoreInputTest}, {@code ValidationTest}), once.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class BadInputChecks {

    private BadInputChecks() {}

    abstract static class BadInput extends KitGroup {

        BadInput(KitFixture kit) {
            super(kit);
        }

        /** One call of each kind with input the core refuses: none reaches the provider or its backend. */
        @Test
        @SuppressWarnings("NullAway") // nulls are the point
        void refusedInput_reachesNothing_andLeavesTheBackendEmpty() {
            String good = key("good");
            String tooLong = "k".repeat(LockingService.MAX_KEY_LENGTH + 1);
            String loneSurrogate = good + "\uD800";
            String overlongOwner = "o".repeat(LockingService.MAX_OWNER_ID_LENGTH + 1);
            AtomicBoolean ran = new AtomicBoolean();
            LockedJob<Boolean, RuntimeException> job = lock -> ran.getAndSet(true);
            Map<String, ThrowingCallable> cases = new LinkedHashMap<>();
            cases.put("acquire(null key in list)",
                    () -> locking.acquire(Arrays.asList(good, null), AcquireOptions.DEFAULTS));
            cases.put("acquire(1025-char key)",
                    () -> locking.acquire(List.of(good, tooLong), AcquireOptions.DEFAULTS));
            cases.put("acquire(key with a lone surrogate)",
                    () -> locking.acquire(List.of(good, loneSurrogate), owner("owner-1")));
            cases.put("acquire(expire zero)", () -> locking.acquire(good, owner("owner-1", Duration.ZERO)));
            cases.put("acquire(1025-char owner)",
                    () -> locking.acquire(good, owner(overlongOwner, Duration.ofSeconds(30))));
            cases.put("execute(empty key)", () -> locking.execute(List.of(good, ""), job));
            cases.put("execute(expire negative)",
                    () -> locking.execute(good, job, ExecuteOptions.builder().expire(Duration.ofMillis(-1)).build()));
            cases.put("release(key with a lone surrogate)", () -> locking.release(loneSurrogate));
            cases.put("releaseAll(owner with a lone surrogate)",
                    () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner\uDC00").build()));
            cases.put("inspect(1025-char key)", () -> locking.inspect(tooLong));
            CountingProvider.Calls before = counted.calls();
            cases.forEach((what, call) ->
                    assertThatThrownBy(call).as(what).isInstanceOf(IllegalArgumentException.class));
            assertThat(counted.calls()).as("calls that reached the provider").isEqualTo(before);
            assertThat(ran).as("the job ran").isFalse();
            assertFree(good);
        }

        @Test
        void aKeyOf1024Characters_isAccepted() {
            String longest = (prefix + "k".repeat(LockingService.MAX_KEY_LENGTH))
                    .substring(0, LockingService.MAX_KEY_LENGTH);
            Lease lease = locking.acquire(longest);
            assertThat(lease.keys()).containsExactly(longest);
            assertHeld(longest);
            assertThat(locking.release(longest)).isTrue();
        }
    }
}
