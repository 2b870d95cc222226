package dev.locking.memory;

import static dev.locking.memory.Providers.acquired;
import static dev.locking.memory.Providers.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.Leases;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The rows of DESIGN.md's semantics table that a provider implements, on a fake clock. */
class MemoryLockingProviderTest {

    private static final Duration LEASE = Duration.ofSeconds(10);

    private final FakeTime time = new FakeTime();
    private final MemoryLockingProvider provider = Providers.onFakeTime(time);

    @AfterEach
    void closeProvider() {
        provider.close();
    }

    private LockInfo info(String key) {
        Optional<LockInfo> info = provider.inspect(key);
        assertThat(info).as("inspect(%s)", key).isPresent();
        return info.orElseThrow();
    }

    @Nested
    class FreeKeys {

        @Test
        void tryAcquire_onFreeKeys_takesEveryKeyWithItsOwnToken() {
            AcquireResult.Acquired result = acquired(provider.tryAcquire(List.of("a", "b", "c"), "owner", null));

            assertThat(result.fencingTokens()).containsOnlyKeys("a", "b", "c");
            assertThat(result.fencingTokens().values()).doesNotHaveDuplicates().allMatch(t -> t > 0);
            assertThat(result.expiresAt()).isNull();
            for (String key : List.of("a", "b", "c")) {
                assertThat(info(key)).isEqualTo(new LockInfo(key, "owner", null, result.fencingTokens().get(key)));
            }
        }

        @Test
        void tryAcquire_withLease_expiresAtNowPlusTheLease() {
            Instant expected = time.wallTime().plus(LEASE);

            AcquireResult.Acquired result = acquired(provider.tryAcquire(List.of("a"), "owner", LEASE));

            assertThat(result.expiresAt()).isEqualTo(expected);
            assertThat(info("a").expiresAt()).isEqualTo(expected);
        }

        @Test
        void tryAcquire_withoutLease_neverExpires() {
            provider.tryAcquire(List.of("a"), null, null);

            time.advance(Duration.ofDays(10_000));
            provider.sweep();

            assertThat(info("a").expiresAt()).isNull();
        }

        @Test
        void tryAcquire_withAHugeLease_capsItInsteadOfOverflowing() {
            AcquireResult.Acquired result =
                    acquired(provider.tryAcquire(List.of("a"), "owner", Duration.ofSeconds(Long.MAX_VALUE)));

            assertThat(result.expiresAt()).isEqualTo(time.wallTime().plus(Leases.MAX));
            time.advance(Duration.ofDays(365));
            assertThat(provider.inspect("a")).isPresent();
        }

        @Test
        void tryAcquire_onKeysSharingAStripe_locksThatStripeOnce() throws Exception {
            List<String> keys = keysInOneStripe(3);

            acquired(provider.tryAcquire(keys, "owner", null));
            assertThat(provider.release(keys, "owner")).isTrue();

            // Had a stripe been locked twice and unlocked once, another thread would block here for ever.
            var other = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> provider.tryAcquire(keys, "other", null));
            assertThat(other.get(10, java.util.concurrent.TimeUnit.SECONDS))
                    .isInstanceOf(AcquireResult.Acquired.class);
        }
    }

    @Nested
    class SameOwnerReentry {

        @Test
        void reacquire_withLease_resetsTheExpiryAndKeepsTheToken() {
            long first = token(provider.tryAcquire(List.of("a"), "owner", LEASE), "a");
            time.advance(Duration.ofSeconds(7));

            AcquireResult.Acquired again = acquired(provider.tryAcquire(List.of("a"), "owner", LEASE));

            assertThat(again.fencingTokens()).containsEntry("a", first);
            assertThat(again.expiresAt()).isEqualTo(time.wallTime().plus(LEASE));
            time.advance(Duration.ofSeconds(7));
            assertThat(info("a").fencingToken()).isEqualTo(first);
        }

        @Test
        void reacquire_withoutLease_keepsTheOldExpiryAndToken() {
            AcquireResult.Acquired first = acquired(provider.tryAcquire(List.of("a"), "owner", LEASE));
            time.advance(Duration.ofSeconds(7));

            AcquireResult.Acquired again = acquired(provider.tryAcquire(List.of("a"), "owner", null));

            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());
            assertThat(again.expiresAt()).isEqualTo(first.expiresAt());
            time.advance(Duration.ofSeconds(3));
            assertThat(provider.inspect("a")).isEmpty();
        }

        @Test
        void reacquire_withoutLease_ofALockThatNeverExpires_stillNeverExpires() {
            long first = token(provider.tryAcquire(List.of("a"), "owner", null), "a");

            AcquireResult.Acquired again = acquired(provider.tryAcquire(List.of("a"), "owner", null));

            assertThat(again.fencingTokens()).containsEntry("a", first);
            assertThat(again.expiresAt()).isNull();
        }

        @Test
        void reacquire_ofSomeHeldAndSomeFreeKeys_keepsOldTokensAndGivesNewOnes() {
            long a = token(provider.tryAcquire(List.of("a"), "owner", null), "a");

            AcquireResult.Acquired both = acquired(provider.tryAcquire(List.of("a", "b"), "owner", null));

            assertThat(both.fencingTokens()).containsEntry("a", a);
            assertThat(both.fencingTokens().get("b")).isGreaterThan(a);
        }

        @Test
        void reacquire_withoutLease_reportsTheEarliestExpiryOfItsKeys() {
            AcquireResult.Acquired a = acquired(provider.tryAcquire(List.of("a"), "owner", LEASE));

            AcquireResult.Acquired both = acquired(provider.tryAcquire(List.of("a", "b"), "owner", null));

            assertThat(both.expiresAt()).isEqualTo(a.expiresAt());
            assertThat(info("b").expiresAt()).isNull();
        }
    }

    @Nested
    class AnonymousLocks {

        @Test
        void anonymousLock_isNotReenteredByAnotherAnonymousAcquire() {
            provider.tryAcquire(List.of("a"), null, null);

            assertThat(provider.tryAcquire(List.of("a"), null, null)).isEqualTo(new AcquireResult.Conflict("a"));
        }

        @Test
        void anonymousLock_conflictsWithEveryOwner() {
            provider.tryAcquire(List.of("a"), null, null);

            assertThat(provider.tryAcquire(List.of("a"), "owner", null)).isEqualTo(new AcquireResult.Conflict("a"));
        }

        @Test
        void ownedLock_conflictsWithAnAnonymousAcquire() {
            provider.tryAcquire(List.of("a"), "owner", null);

            assertThat(provider.tryAcquire(List.of("a"), null, null)).isEqualTo(new AcquireResult.Conflict("a"));
        }
    }

    @Nested
    class Conflicts {

        @Test
        void conflict_reportsTheFirstHeldKeyInSortedOrder_andChangesNoKey() {
            provider.tryAcquire(List.of("b"), "x", LEASE);
            provider.tryAcquire(List.of("d"), null, null);
            LockInfo b = info("b");
            LockInfo d = info("d");

            AcquireResult result = provider.tryAcquire(List.of("a", "b", "c", "d"), "y", LEASE);

            assertThat(result).isEqualTo(new AcquireResult.Conflict("b"));
            assertThat(provider.inspect("a")).isEmpty();
            assertThat(provider.inspect("c")).isEmpty();
            assertThat(info("b")).isEqualTo(b);
            assertThat(info("d")).isEqualTo(d);
            assertThat(provider.size()).isEqualTo(2);
        }

        @Test
        void conflict_onALaterKey_doesNotRenewTheCallersOwnEarlierKey() {
            provider.tryAcquire(List.of("a"), "y", LEASE);
            provider.tryAcquire(List.of("b"), "x", null);
            LockInfo a = info("a");
            time.advance(Duration.ofSeconds(5));

            assertThat(provider.tryAcquire(List.of("a", "b"), "y", LEASE)).isEqualTo(new AcquireResult.Conflict("b"));

            assertThat(info("a")).isEqualTo(a);
        }

        @Test
        void conflict_onAnotherOwnersKey_evenWhenOtherKeysAreFree() {
            provider.tryAcquire(List.of("z"), "x", null);

            assertThat(provider.tryAcquire(List.of("a", "m", "z"), "y", null)).isEqualTo(new AcquireResult.Conflict("z"));
            assertThat(provider.size()).isEqualTo(1);
        }
    }

    @Nested
    class Expiry {

        @Test
        void lapsedLease_freesTheKey_andTheNextTakeGetsAHigherToken() {
            long first = token(provider.tryAcquire(List.of("a"), "x", LEASE), "a");
            time.advance(LEASE);

            assertThat(provider.inspect("a")).isEmpty();
            long second = token(provider.tryAcquire(List.of("a"), "y", null), "a");

            assertThat(second).isGreaterThan(first);
            assertThat(info("a").ownerId()).isEqualTo("y");
        }

        @Test
        void lease_isStillHeldOneNanosecondBeforeItLapses() {
            provider.tryAcquire(List.of("a"), "x", LEASE);
            time.advance(LEASE.minusNanos(1));

            assertThat(provider.tryAcquire(List.of("a"), "y", null)).isEqualTo(new AcquireResult.Conflict("a"));
        }

        @Test
        void sameOwner_afterItsLeaseLapsed_takesTheKeyAnewWithAHigherToken() {
            long first = token(provider.tryAcquire(List.of("a"), "x", LEASE), "a");
            time.advance(LEASE.plusSeconds(1));

            AcquireResult.Acquired again = acquired(provider.tryAcquire(List.of("a"), "x", null));

            assertThat(again.fencingTokens().get("a")).isGreaterThan(first);
            assertThat(again.expiresAt()).isNull();
        }

        @Test
        void expiredRecord_isRemovedWhenTouched_leavingNoOwnerEntry() {
            provider.tryAcquire(List.of("a"), "x", LEASE);
            time.advance(LEASE);
            assertThat(provider.size()).isEqualTo(1);

            assertThat(provider.inspect("a")).isEmpty();

            assertThat(provider.size()).isZero();
            assertThat(provider.ownerCount()).isZero();
        }

        @Test
        void sweep_removesEveryLapsedRecordAndKeepsTheOthers() {
            provider.tryAcquire(List.of("a", "b"), "x", LEASE);
            provider.tryAcquire(List.of("c"), null, LEASE);
            provider.tryAcquire(List.of("d"), "x", Duration.ofMinutes(1));
            provider.tryAcquire(List.of("e"), "y", null);
            time.advance(LEASE);

            provider.sweep();

            assertThat(provider.size()).isEqualTo(2);
            assertThat(provider.inspect("d")).isPresent();
            assertThat(provider.inspect("e")).isPresent();
            assertThat(provider.ownerCount()).isEqualTo(2);
        }

        @Test
        void multiKeyAcquire_overAnExpiredKey_takesItWithANewToken() {
            long b = token(provider.tryAcquire(List.of("b"), "x", LEASE), "b");
            time.advance(LEASE);

            AcquireResult.Acquired result = acquired(provider.tryAcquire(List.of("a", "b"), "y", null));

            assertThat(result.fencingTokens().get("b")).isGreaterThan(b);
            assertThat(provider.ownerCount()).isEqualTo(1);
        }
    }

    @Nested
    class Release {

        @Test
        void anonymousLock_isReleasedByAnyOwner() {
            provider.tryAcquire(List.of("a"), null, null);

            assertThat(provider.release(List.of("a"), "someone")).isTrue();
            assertThat(provider.inspect("a")).isEmpty();
        }

        @Test
        void anonymousLock_isReleasedWithoutAnOwner() {
            provider.tryAcquire(List.of("a"), null, null);

            assertThat(provider.release(List.of("a"), null)).isTrue();
            assertThat(provider.size()).isZero();
        }

        @Test
        void ownedLock_isReleasedByItsOwner() {
            provider.tryAcquire(List.of("a"), "x", null);

            assertThat(provider.release(List.of("a"), "x")).isTrue();
            assertThat(provider.size()).isZero();
            assertThat(provider.ownerCount()).isZero();
        }

        @Test
        void ownedLock_isLeftAloneByAnotherOwner() {
            provider.tryAcquire(List.of("a"), "x", null);

            assertThat(provider.release(List.of("a"), "y")).isFalse();
            assertThat(info("a").ownerId()).isEqualTo("x");
        }

        @Test
        void ownedLock_isLeftAloneWhenNoOwnerIsGiven() {
            provider.tryAcquire(List.of("a"), "x", null);

            assertThat(provider.release(List.of("a"), null)).isFalse();
            assertThat(info("a").ownerId()).isEqualTo("x");
        }

        @Test
        void keyNotHeld_givesFalse() {
            assertThat(provider.release(List.of("a"), "x")).isFalse();
            assertThat(provider.release(List.of("a"), null)).isFalse();
        }

        @Test
        void secondRelease_givesFalse() {
            provider.tryAcquire(List.of("a"), "x", null);
            provider.release(List.of("a"), "x");

            assertThat(provider.release(List.of("a"), "x")).isFalse();
        }

        @Test
        void expiredKey_givesFalse() {
            provider.tryAcquire(List.of("a"), "x", LEASE);
            time.advance(LEASE);

            assertThat(provider.release(List.of("a"), "x")).isFalse();
            assertThat(provider.size()).isZero();
        }

        @Test
        void releaseOfSeveralKeys_releasesWhatItMay_andIsTrueOnlyIfAllWent() {
            provider.tryAcquire(List.of("a"), null, null);
            provider.tryAcquire(List.of("b"), "x", null);
            provider.tryAcquire(List.of("c"), "y", null);

            assertThat(provider.release(List.of("a", "b", "c", "d"), "x")).isFalse();

            assertThat(provider.inspect("a")).isEmpty();
            assertThat(provider.inspect("b")).isEmpty();
            assertThat(info("c").ownerId()).isEqualTo("y");
        }

        @Test
        void releaseOfSeveralKeys_allHeldByTheOwner_isTrue() {
            provider.tryAcquire(List.of("a", "b", "c"), "x", LEASE);

            assertThat(provider.release(List.of("a", "b", "c"), "x")).isTrue();
            assertThat(provider.size()).isZero();
            assertThat(provider.ownerCount()).isZero();
        }
    }

    @Nested
    class ReleaseAll {

        @Test
        void releaseAll_ofAnOwner_releasesItsKeysOnly() {
            provider.tryAcquire(List.of("a", "b"), "x", null);
            provider.tryAcquire(List.of("c"), "x", LEASE);
            provider.tryAcquire(List.of("d"), "y", null);
            provider.tryAcquire(List.of("e"), null, null);

            provider.releaseAll("x");

            assertThat(provider.inspect("a")).isEmpty();
            assertThat(provider.inspect("b")).isEmpty();
            assertThat(provider.inspect("c")).isEmpty();
            assertThat(info("d").ownerId()).isEqualTo("y");
            assertThat(info("e").ownerId()).isNull();
            assertThat(provider.size()).isEqualTo(2);
            assertThat(provider.ownerCount()).isEqualTo(1);
        }

        @Test
        void releaseAll_ofAnOwnerWithKeysInEveryStripe_releasesThemAll() {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) {
                keys.add("key-" + i);
            }
            for (String key : keys) {
                acquired(provider.tryAcquire(List.of(key), "x", null));
            }
            provider.tryAcquire(List.of("other"), "y", null);

            provider.releaseAll("x");

            assertThat(provider.size()).isEqualTo(1);
            assertThat(provider.ownerCount()).isEqualTo(1);
        }

        @Test
        void releaseAll_ofAnUnknownOwner_changesNothing() {
            provider.tryAcquire(List.of("a"), "x", null);

            provider.releaseAll("nobody");

            assertThat(info("a").ownerId()).isEqualTo("x");
        }

        @Test
        void releaseAll_withoutOwner_releasesEveryLock() {
            provider.tryAcquire(List.of("a", "b"), "x", null);
            provider.tryAcquire(List.of("c"), "y", LEASE);
            provider.tryAcquire(List.of("d"), null, null);

            provider.releaseAll(null);

            assertThat(provider.size()).isZero();
            assertThat(provider.ownerCount()).isZero();
            for (String key : List.of("a", "b", "c", "d")) {
                assertThat(provider.inspect(key)).isEmpty();
            }
        }

        @Test
        void keysReleasedByReleaseAll_canBeTakenAgainWithHigherTokens() {
            long a = token(provider.tryAcquire(List.of("a"), "x", null), "a");
            provider.releaseAll("x");

            assertThat(token(provider.tryAcquire(List.of("a"), "y", null), "a")).isGreaterThan(a);
        }
    }

    @Nested
    class Extend {

        @Test
        void extend_byTheOwner_resetsTheExpiryAndKeepsTheToken() {
            long token = token(provider.tryAcquire(List.of("a", "b"), "x", LEASE), "a");
            time.advance(Duration.ofSeconds(9));

            assertThat(provider.extend(List.of("a", "b"), "x", Duration.ofSeconds(30))).isTrue();

            assertThat(info("a")).isEqualTo(new LockInfo("a", "x", time.wallTime().plusSeconds(30), token));
            time.advance(Duration.ofSeconds(29));
            assertThat(provider.inspect("b")).isPresent();
        }

        @Test
        void extend_byAnotherOwner_isFalse_andChangesNothing() {
            provider.tryAcquire(List.of("a"), "x", LEASE);
            LockInfo before = info("a");

            assertThat(provider.extend(List.of("a"), "y", Duration.ofMinutes(1))).isFalse();

            assertThat(info("a")).isEqualTo(before);
        }

        @Test
        void extend_ofAnAnonymousLock_isFalse() {
            provider.tryAcquire(List.of("a"), null, LEASE);

            assertThat(provider.extend(List.of("a"), "x", Duration.ofMinutes(1))).isFalse();
        }

        @Test
        void extend_whenOneKeyIsNoLongerHeld_isFalse_andExtendsNone() {
            provider.tryAcquire(List.of("a", "b"), "x", LEASE);
            provider.release(List.of("b"), "x");
            LockInfo a = info("a");

            assertThat(provider.extend(List.of("a", "b"), "x", Duration.ofMinutes(1))).isFalse();

            assertThat(info("a")).isEqualTo(a);
        }

        @Test
        void extend_afterTheLeaseLapsed_isFalse() {
            provider.tryAcquire(List.of("a"), "x", LEASE);
            time.advance(LEASE);

            assertThat(provider.extend(List.of("a"), "x", LEASE)).isFalse();
            assertThat(provider.size()).isZero();
        }

        @Test
        void extend_ofALockThatNeverExpired_givesItALease() {
            provider.tryAcquire(List.of("a"), "x", null);

            assertThat(provider.extend(List.of("a"), "x", LEASE)).isTrue();

            assertThat(info("a").expiresAt()).isEqualTo(time.wallTime().plus(LEASE));
        }
    }

    @Nested
    class Inspect {

        @Test
        void inspect_ofAFreeKey_isEmpty() {
            assertThat(provider.inspect("a")).isEmpty();
        }

        @Test
        void inspect_ofAnOwnedKey_reportsOwnerExpiryAndToken() {
            AcquireResult.Acquired result = acquired(provider.tryAcquire(List.of("a"), "x", LEASE));

            assertThat(provider.inspect("a"))
                    .contains(new LockInfo("a", "x", result.expiresAt(), result.fencingTokens().get("a")));
        }

        @Test
        void inspect_ofAnAnonymousKey_hasNoOwner() {
            long token = token(provider.tryAcquire(List.of("a"), null, null), "a");

            assertThat(provider.inspect("a")).contains(new LockInfo("a", null, null, token));
        }

        @Test
        void inspect_ofAnExpiredKey_isEmpty() {
            provider.tryAcquire(List.of("a"), "x", LEASE);
            time.advance(LEASE);

            assertThat(provider.inspect("a")).isEmpty();
        }
    }

    @Nested
    class FencingTokens {

        @Test
        void tokens_increaseStrictlyPerKey_acrossReleaseExpiryAndReleaseAll() {
            long last = 0;
            for (int i = 0; i < 2_000; i++) {
                String owner = i % 3 == 0 ? null : "owner-" + (i % 7);
                long token = token(provider.tryAcquire(List.of("key"), owner, LEASE), "key");
                assertThat(token).isGreaterThan(last);
                last = token;
                switch (i % 4) {
                    case 0 -> provider.release(List.of("key"), owner);
                    case 1 -> time.advance(LEASE);
                    case 2 -> provider.releaseAll(owner);
                    default -> provider.releaseAll(null);
                }
                assertThat(provider.inspect("key")).isEmpty();
            }
        }

        @Test
        void tokens_comeFromOneCounter_soTheyIncreaseAcrossKeysToo() {
            long a = token(provider.tryAcquire(List.of("a"), null, null), "a");
            long b = token(provider.tryAcquire(List.of("b"), null, null), "b");
            AcquireResult.Acquired cd = acquired(provider.tryAcquire(List.of("c", "d"), null, null));

            assertThat(b).isGreaterThan(a);
            assertThat(cd.fencingTokens().values()).allMatch(t -> t > b);
        }
    }

    @Nested
    class Close {

        @Test
        void close_isIdempotent_andDropsEveryLock() {
            provider.tryAcquire(List.of("a"), "x", LEASE);

            provider.close();
            provider.close();

            assertThat(provider.size()).isZero();
            assertThat(provider.ownerCount()).isZero();
        }

        @Test
        void callsAfterClose_throwIllegalStateException() {
            provider.close();

            assertThatThrownBy(() -> provider.tryAcquire(List.of("a"), null, null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("lp_memory");
            assertThatThrownBy(() -> provider.tryAcquire(List.of("a", "b"), null, LEASE))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> provider.release(List.of("a"), null)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> provider.extend(List.of("a"), "x", LEASE))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> provider.inspect("a")).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> provider.releaseAll(null)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> provider.releaseAll("x")).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> provider.awaitRelease(List.of("a"), LEASE))
                    .isInstanceOf(IllegalStateException.class);
        }

        @Test
        void closedProvider_neverStartsASweeper() {
            provider.close();

            assertThatThrownBy(() -> provider.tryAcquire(List.of("a"), null, LEASE))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(provider.sweeperThread()).isNull();
        }
    }

    /** Distinct keys that all fall into one lock stripe, sorted. */
    static List<String> keysInOneStripe(int count) {
        List<String> keys = new ArrayList<>();
        int stripe = Stripes.index("k0");
        keys.add("k0");
        for (int i = 1; keys.size() < count; i++) {
            String key = "k" + i;
            if (Stripes.index(key) == stripe) {
                keys.add(key);
            }
        }
        java.util.Collections.sort(keys);
        return keys;
    }
}
