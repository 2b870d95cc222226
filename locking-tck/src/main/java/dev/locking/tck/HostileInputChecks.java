package dev.locking.tck;

import static dev.locking.tck.LockingProviderConformance.PROVIDER_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.LockedJob;
import dev.locking.api.ReleaseAllOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The kit's checks of hostile keys and owners: malformed ones refused, every other one meaning exactly itself.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class HostileInputChecks {

    private HostileInputChecks() {}

    /**
     * Keys and owner ids mean exactly themselves. A key or owner id that is not well-formed UTF-16 (a lone
     * surrogate) cannot be stored faithfully by most backends, so the core refuses it, as it refuses an
     * owner id over {@value HostileInput#MAX_LENGTH} characters, with {@link IllegalArgumentException} and no
     * provider call. Every other string (NUL, separators, path segments, wildcards, hash tags, escapes,
     * control characters, characters outside the BMP, the longest allowed) round-trips exactly, through the
     * service and through the SPI, and lookalikes are different keys and different owners. The strings are
     * in {@link HostileInput}.
     */
    abstract static class HostileKeysAndOwners extends KitGroup {

        HostileKeysAndOwners(KitFixture kit) {
            super(kit);
        }

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
                        good -> () -> locking.inspect(good + bad, PROVIDER_ID));
                String badOwner = "owner" + bad;
                cases.put("acquire(owner with " + what + ")", good -> () -> locking.acquire(good, owner(badOwner)));
                cases.put("release(owner with " + what + ")", good -> () -> locking.release(good, by(badOwner)));
                cases.put("releaseAll(owner with " + what + ")",
                        good -> () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId(badOwner).build()));
            });
            String overlong = "o".repeat(HostileInput.MAX_LENGTH + 1);
            cases.put("acquire(1025-char owner)",
                    good -> () -> locking.acquire(good, owner(overlong, Duration.ofSeconds(30))));
            cases.put("release(1025-char owner)", good -> () -> locking.release(good, by(overlong)));
            cases.put("releaseAll(1025-char owner)",
                    good -> () -> locking.releaseAll(ReleaseAllOptions.builder().ownerId(overlong).build()));
            AtomicInteger n = new AtomicInteger();
            return cases.entrySet().stream().map(c -> DynamicTest.dynamicTest(c.getKey(), () -> {
                String good = key("good-" + n.incrementAndGet());
                CountingProvider.Calls before = counted.calls();
                assertThatThrownBy(c.getValue().apply(good)).isInstanceOf(IllegalArgumentException.class);
                assertThat(counted.calls()).as("calls that reached the provider").isEqualTo(before);
                assertThat(ran).as("the job ran").isFalse();
                assertFree(good);
            }));
        }

        @TestFactory
        Stream<DynamicTest> everyOtherKeyAndOwner_roundTripsExactly_throughTheService() {
            return roundTrips(HostileInput.through(locking));
        }

        @TestFactory
        Stream<DynamicTest> spi_everyOtherKeyAndOwner_roundTripsExactly() {
            return roundTrips(HostileInput.through(provider()));
        }

        /** Each string as an owner, and as a key both alone and after the test's prefix; then the longest. */
        private Stream<DynamicTest> roundTrips(HostileInput.Client client) {
            List<DynamicTest> tests = new ArrayList<>();
            HostileInput.values().forEach((what, value) -> {
                tests.add(DynamicTest.dynamicTest(what + " " + HostileInput.quoted(value), () -> {
                    HostileInput.assertRoundTrip(client, key(value), value, what + " after a prefix");
                    HostileInput.assertRoundTrip(client, value, value, what + " alone");
                }));
            });
            tests.add(DynamicTest.dynamicTest("1024 characters", () -> {
                String longestKey = HostileInput.longest(key(""), HostileInput.MAX_LENGTH);
                String longestOwner = HostileInput.longest("owner", HostileInput.MAX_LENGTH);
                assertThat(longestKey).hasSize(HostileInput.MAX_LENGTH);
                assertThat(longestOwner).hasSize(HostileInput.MAX_LENGTH);
                HostileInput.assertRoundTrip(client, longestKey, longestOwner, "the longest key and owner");
            }));
            return tests.stream();
        }

        @Test
        void lookalikeOwners_cannotReenterReleaseOrReleaseAllEachOthersLocks() {
            HostileInput.assertLookalikeOwnersAreDistinct(HostileInput.through(locking), key(""));
        }

        @Test
        void spi_lookalikeOwners_cannotReenterExtendReleaseOrReleaseAllEachOthersLocks() {
            HostileInput.assertLookalikeOwnersAreDistinct(HostileInput.through(provider()), key(""));
        }

        @Test
        void lookalikeKeys_areDifferentLocks() {
            HostileInput.assertLookalikeKeysAreDistinct(HostileInput.through(locking), key(""));
        }

        @Test
        void spi_lookalikeKeys_areDifferentLocks() {
            HostileInput.assertLookalikeKeysAreDistinct(HostileInput.through(provider()), key(""));
        }
    }
}
