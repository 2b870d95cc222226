package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The kit's checks of hostile keys and owners: every well-formed one means exactly itself.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class HostileInputChecks {

    private HostileInputChecks() {}

    /**
     * Keys and owner ids mean exactly themselves. Every well-formed string (NUL, separators, path segments,
     * wildcards, hash tags, escapes, control characters, characters outside the BMP, the longest allowed)
     * round-trips exactly, through the service and through the SPI, and lookalikes are different keys and
     * different owners. The strings are in {@link HostileInput}. Malformed ones (a lone surrogate, an owner
     * id over {@value HostileInput#MAX_LENGTH} characters) the core refuses before any provider call: the
     * core's {@code CoreInputTest} checks that, and {@code BadInputChecks} that they leave the backend empty.
     */
    abstract static class HostileKeysAndOwners extends KitGroup {

        HostileKeysAndOwners(KitFixture kit) {
            super(kit);
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
