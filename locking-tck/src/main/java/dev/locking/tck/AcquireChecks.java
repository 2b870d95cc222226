package dev.locking.tck;

import static dev.locking.tck.LockingProviderConformance.PROVIDER_ID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.AcquireOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockInfo;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of {@code acquire}: free keys, re-entry by the same owner, keys held by someone else, lapsed
 * leases, locks without expire, and an acquire given a wait.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class AcquireChecks {

    private AcquireChecks() {}

    abstract static class AcquireOnFreeKeys extends KitGroup {

        AcquireOnFreeKeys(KitFixture kit) {
            super(kit);
        }

        @Test
        void takesEveryKeyAtOnce_withATokenPerKey() {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            Lease lease = locking.acquire(List.of(c, a, b), owner("owner-1"));

            assertThat(lease.providerId()).isEqualTo(PROVIDER_ID);
            assertThat(lease.keys()).containsExactly(a, b, c);
            assertThat(lease.ownerId()).isEqualTo("owner-1");
            assertThat(lease.expiresAt()).isNull();
            assertThat(lease.fencingTokens()).containsOnlyKeys(a, b, c);
            for (String k : List.of(a, b, c)) {
                LockInfo info = assertHeld(k);
                assertThat(info.ownerId()).isEqualTo("owner-1");
                assertThat(info.expiresAt()).isNull();
                assertThat(info.fencingToken()).isEqualTo(lease.fencingTokens().get(k));
                assertThat(locking.inspect(k)).contains(info);
            }
        }

        @Test
        void withExpire_theLeaseEndsExpireFromNow() {
            String a = key("a");
            Duration expire = Duration.ofSeconds(60);
            Instant before = Instant.now();
            Lease lease = locking.acquire(a, owner("owner-1", expire));
            Instant after = Instant.now();

            assertExpiresAbout(lease.expiresAt(), before, after, expire, "Lease.expiresAt");
            assertCloseTo(assertHeld(a).expiresAt(), lease.expiresAt(), "inspect's expiresAt");
        }

        @Test
        void withoutOptions_theLockIsAnonymousAndNeverExpires() {
            String a = key("a");
            Lease lease = locking.acquire(a);

            assertThat(lease.keys()).containsExactly(a);
            assertThat(lease.ownerId()).isNull();
            assertThat(lease.expiresAt()).isNull();
            LockInfo info = assertHeld(a);
            assertThat(info.ownerId()).isNull();
            assertThat(info.expiresAt()).isNull();
            assertThat(info.fencingToken()).isEqualTo(lease.fencingTokens().get(a));
        }

        @Test
        void duplicateKeys_countOnce_andLeaseKeysAreSorted() {
            String a = key("a");
            String b = key("b");
            Lease lease = locking.acquire(List.of(b, a, b, a), owner("owner-1"));

            assertThat(lease.keys()).containsExactly(a, b);
            assertThat(lease.fencingTokens()).containsOnlyKeys(a, b);
            assertThat(locking.release(List.of(a, a, b), by("owner-1"))).as("release of duplicated keys").isTrue();
            assertFree(a, b);
        }

        @Test
        void spi_tryAcquire_onFreeKeys_returnsATokenPerKey() {
            String a = key("a");
            String b = key("b");
            Duration lease = Duration.ofSeconds(60);
            Instant before = Instant.now();
            AcquireResult result = provider().tryAcquire(List.of(a, b), "owner-1", lease);
            Instant after = Instant.now();

            assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
            AcquireResult.Acquired acquired = (AcquireResult.Acquired) result;
            assertThat(acquired.fencingTokens()).containsOnlyKeys(a, b);
            assertExpiresAbout(acquired.expiresAt(), before, after, lease, "Acquired.expiresAt");
            assertThat(assertHeld(b).fencingToken()).isEqualTo(acquired.fencingTokens().get(b));

            AcquireResult never = provider().tryAcquire(List.of(key("c")), null, null);
            assertThat(never).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(((AcquireResult.Acquired) never).expiresAt()).isNull();
        }
    }

    abstract static class SameOwnerReentry extends KitGroup {

        SameOwnerReentry(KitFixture kit) {
            super(kit);
        }

        @Test
        void withExpire_resetsTheLeaseToNowPlusExpire_andKeepsTheTokens() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(List.of(a, b), owner("owner-1", Duration.ofSeconds(10)));

            Duration longer = Duration.ofSeconds(60);
            Instant before = Instant.now();
            Lease second = locking.acquire(List.of(a, b), owner("owner-1", longer));
            Instant after = Instant.now();
            assertExpiresAbout(second.expiresAt(), before, after, longer, "re-entry with a longer expire");
            assertThat(second.fencingTokens()).isEqualTo(first.fencingTokens());
            for (String k : List.of(a, b)) {
                LockInfo info = assertHeld(k);
                assertThat(info.ownerId()).isEqualTo("owner-1");
                assertThat(info.fencingToken()).isEqualTo(first.fencingTokens().get(k));
                assertCloseTo(info.expiresAt(), second.expiresAt(), "inspect's expiresAt of " + k);
            }

            // "Reset", not "extend": a shorter expire shortens the lease.
            Duration shorter = Duration.ofSeconds(5);
            before = Instant.now();
            Lease third = locking.acquire(List.of(a, b), owner("owner-1", shorter));
            after = Instant.now();
            assertExpiresAbout(third.expiresAt(), before, after, shorter, "re-entry with a shorter expire");
            assertThat(third.fencingTokens()).isEqualTo(first.fencingTokens());
        }

        @Test
        void withoutExpire_keepsTheOldExpiry_andTheTokens() {
            String a = key("a");
            Lease first = locking.acquire(a, owner("owner-1", Duration.ofSeconds(30)));
            long start = System.nanoTime();
            // Let time pass, so that a lease wrongly reset to "now + something" shows.
            awaitElapsed(start, clockTolerance().multipliedBy(3).plusMillis(200));

            Lease second = locking.acquire(a, owner("owner-1"));
            assertThat(second.expiresAt()).as("re-entry without expire keeps an expiry").isNotNull();
            assertCloseTo(second.expiresAt(), first.expiresAt(), "re-entry without expire");
            assertThat(second.fencingTokens()).isEqualTo(first.fencingTokens());
            LockInfo info = assertHeld(a);
            assertCloseTo(info.expiresAt(), first.expiresAt(), "inspect's expiresAt");
            assertThat(info.fencingToken()).isEqualTo(first.fencingTokens().get(a));
        }

        @Test
        void onANeverExpiringLock_withoutExpireStaysNeverExpiring_withExpireGetsALease() {
            String a = key("a");
            Lease first = locking.acquire(a, owner("owner-1"));

            Lease again = locking.acquire(a, owner("owner-1"));
            assertThat(again.expiresAt()).isNull();
            assertThat(assertHeld(a).expiresAt()).isNull();
            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());

            Duration expire = Duration.ofSeconds(60);
            Instant before = Instant.now();
            Lease leased = locking.acquire(a, owner("owner-1", expire));
            Instant after = Instant.now();
            assertExpiresAbout(leased.expiresAt(), before, after, expire, "re-entry with expire");
            assertThat(leased.fencingTokens()).isEqualTo(first.fencingTokens());
        }

        @Test
        void onMoreKeysThanItHolds_reentersTheHeldOnes_andTakesTheFreeOnes() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(a, owner("owner-1"));
            Lease wider = locking.acquire(List.of(a, b), owner("owner-1"));

            assertThat(wider.fencingTokens().get(a)).isEqualTo(first.fencingTokens().get(a));
            assertThat(wider.fencingTokens()).containsKey(b);
            assertThat(assertHeld(b).ownerId()).isEqualTo("owner-1");
        }

        @Test
        void spi_tryAcquire_bySameOwner_keepsTheTokens() {
            String a = key("a");
            AcquireResult first = provider().tryAcquire(List.of(a), "owner-1", Duration.ofSeconds(30));
            AcquireResult again = provider().tryAcquire(List.of(a), "owner-1", Duration.ofSeconds(60));

            assertThat(first).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(again).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(((AcquireResult.Acquired) again).fencingTokens())
                    .isEqualTo(((AcquireResult.Acquired) first).fencingTokens());
        }
    }

    abstract static class HeldBySomeoneElse extends KitGroup {

        HeldBySomeoneElse(KitFixture kit) {
            super(kit);
        }

        @Test
        void heldByAnotherOwner() {
            String a = key("a");
            locking.acquire(a, owner("owner-1", Duration.ofSeconds(60)));
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertAcquireFails(() -> locking.acquire(a, owner("owner-2")), a);
            assertAcquireFails(() -> locking.acquire(a, owner("owner-2", Duration.ofSeconds(5))), a);
            assertAcquireFails(() -> locking.acquire(a), a);
            assertUnchanged(before);
        }

        @Test
        void heldAnonymously_isReenteredByNobody() {
            String a = key("a");
            locking.acquire(a);
            Map<String, Optional<LockInfo>> before = snapshot(a);

            assertAcquireFails(() -> locking.acquire(a), a);
            assertAcquireFails(() -> locking.acquire(a, owner(null, Duration.ofSeconds(5))), a);
            assertAcquireFails(() -> locking.acquire(a, owner("owner-1")), a);
            assertUnchanged(before);
        }

        @Test
        void severalKeys_reportTheFirstConflictInSortedOrder_andChangeNoKey() {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            String d = key("d");
            locking.acquire(b, owner("owner-1", Duration.ofSeconds(60)));
            locking.acquire(c);
            Map<String, Optional<LockInfo>> before = snapshot(a, b, c, d);

            assertAcquireFails(() -> locking.acquire(List.of(d, c, b, a), owner("owner-2", Duration.ofSeconds(30))), b);
            assertAcquireFails(() -> locking.acquire(List.of(d, c, a), owner("owner-2")), c);
            assertAcquireFails(() -> locking.acquire(List.of(d, c, b, a), AcquireOptions.DEFAULTS), b);
            assertUnchanged(before);
        }

        @Test
        void aFailedReentry_leavesTheOwnersOtherKeysAsTheyWere() {
            String a = key("a");
            String b = key("b");
            locking.acquire(a, owner("owner-1", Duration.ofSeconds(10)));
            locking.acquire(b, owner("owner-2"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);

            // owner-1 holds a; the call fails on b, so a's lease must not be reset to 60 s.
            assertAcquireFails(() -> locking.acquire(List.of(a, b), owner("owner-1", Duration.ofSeconds(60))), b);
            assertUnchanged(before);
        }

        @Test
        void spi_tryAcquire_returnsTheFirstConflictingKey_andChangesNothing() {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            provider().tryAcquire(List.of(b), "owner-1", null);
            provider().tryAcquire(List.of(c), null, null);
            Map<String, Optional<LockInfo>> before = snapshot(a, b, c);

            assertThat(provider().tryAcquire(List.of(a, b, c), "owner-2", Duration.ofSeconds(30)))
                    .isEqualTo(new AcquireResult.Conflict(b));
            assertThat(provider().tryAcquire(List.of(a, c), null, null)).isEqualTo(new AcquireResult.Conflict(c));
            assertUnchanged(before);
        }
    }

    abstract static class LapsedLease extends KitGroup {

        LapsedLease(KitFixture kit) {
            super(kit);
        }

        @Test
        void aLapsedKeyIsFree_releaseGivesFalse_andTheNextAcquireGetsAHigherToken() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(List.of(a, b), owner("owner-1", shortLease()));
            Lease anonymous = locking.acquire(key("c"), owner(null, shortLease()));
            assertHeld(a);

            awaitFree(a, lapseBound());
            awaitFree(b, lapseBound());
            awaitFree(key("c"), lapseBound());
            assertThat(locking.inspect(a)).isEmpty();
            assertThat(locking.release(a, by("owner-1"))).as("release of a lapsed lock").isFalse();

            Lease next = locking.acquire(List.of(a, b), owner("owner-2"));
            assertThat(next.fencingTokens().get(a)).isGreaterThan(first.fencingTokens().get(a));
            assertThat(next.fencingTokens().get(b)).isGreaterThan(first.fencingTokens().get(b));
            Lease nextAnonymous = locking.acquire(key("c"));
            assertThat(nextAnonymous.fencingTokens().get(key("c")))
                    .isGreaterThan(anonymous.fencingTokens().get(key("c")));
        }
    }

    abstract static class WithoutExpire extends KitGroup {

        WithoutExpire(KitFixture kit) {
            super(kit);
        }

        @Test
        void theLockNeverLapses() {
            String a = key("a");
            String b = key("b");
            String leased = key("leased");
            Lease owned = locking.acquire(a, owner("owner-1"));
            locking.acquire(b);
            locking.acquire(leased, owner("owner-1", shortLease()));

            assertThat(owned.expiresAt()).isNull();
            awaitFree(leased, lapseBound());
            awaitElapsed(System.nanoTime(), shortLease());

            for (String k : List.of(a, b)) {
                assertThat(assertHeld(k).expiresAt()).as("expiresAt of %s", k).isNull();
            }
            assertAcquireFails(() -> locking.acquire(a, owner("owner-2")), a);
        }
    }

    /**
     * {@code acquire} with a wait: woken by a release in another thread (through the provider's notification, or
     * its queue when it hands off and the call has an owner and a lease), a timeout that writes nothing, all or
     * nothing on several keys, an interrupt that ends the wait.
     */
    abstract static class AcquireWithWait extends KitGroup {

        AcquireWithWait(KitFixture kit) {
            super(kit);
        }

        private AcquireOptions waitUpTo(@org.jspecify.annotations.Nullable String owner,
                @org.jspecify.annotations.Nullable Duration expire, Duration wait) {
            return AcquireOptions.builder().ownerId(owner).expire(expire).wait(wait).build();
        }

        @Test
        void anAnonymousWaiter_isWokenByAReleaseInAnotherThread() throws Exception {
            String a = key("a");
            Lease held = locking.acquire(a);
            Future<Lease> waiter = async(() -> locking.acquire(a, waitUpTo(null, null, patience())));
            waiting().until(() -> counted.awaits() >= 1);
            assertThat(waiter).as("waits while the key is held").isNotDone();

            long released = System.nanoTime();
            assertThat(locking.release(a)).isTrue();
            Lease lease = result(waiter);
            assertThat(since(released)).as("woken by the release").isLessThan(wakeUpWithin());
            assertThat(token(lease, a)).isGreaterThan(token(held, a));
            LockInfo info = assertHeld(a);
            assertThat(info.ownerId()).isNull();
            assertThat(info.expiresAt()).as("no expire: never expires").isNull();
            assertThat(info.fencingToken()).isEqualTo(token(lease, a));
        }

        @Test
        void anOwnerWithALease_isWokenByAReleaseInAnotherThread_andHoldsItsFullLease() throws Exception {
            String a = key("a");
            locking.acquire(a, owner("holder"));
            Duration expire = Duration.ofMinutes(10);
            Future<Lease> waiter = async(() -> locking.acquire(a, waitUpTo("owner-1", expire, patience())));
            waiting().until(() -> counted.awaits() >= 1);

            long released = System.nanoTime();
            assertThat(locking.release(a, by("holder"))).isTrue();
            Lease lease = result(waiter);
            Instant after = Instant.now();
            assertThat(since(released)).as("woken by the release").isLessThan(wakeUpWithin());
            assertThat(lease.ownerId()).isEqualTo("owner-1");
            assertThat(lease.expiresAt()).as("the lease asked for, even when the key was handed over")
                    .isNotNull().isAfter(after.plus(expire).minus(wakeUpWithin()).minus(clockTolerance()));
            LockInfo info = assertHeld(a);
            assertThat(info.ownerId()).isEqualTo("owner-1");
            assertCloseTo(info.expiresAt(), lease.expiresAt(), "inspect's expiresAt");
        }

        @Test
        void aWaiterThatTimesOut_throwsLockTimeoutException_andWritesNothing() {
            String a = key("a");
            String b = key("b");
            locking.acquire(b, owner("holder"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);
            Duration wait = Duration.ofMillis(500);
            long start = System.nanoTime();

            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> locking.acquire(List.of(a, b), waitUpTo("owner-1", Duration.ofMinutes(1), wait)))
                    .isInstanceOf(LockTimeoutException.class).hasMessage(LockTimeoutException.MESSAGE);
            assertThat(since(start)).isGreaterThanOrEqualTo(wait.minus(clockTolerance()));
            assertUnchanged(before);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> locking.acquire(b, waitUpTo("owner-1", Duration.ofMinutes(1), wait)))
                    .isInstanceOf(LockTimeoutException.class);
            assertUnchanged(before);
            assertThat(locking.release(b, by("holder"))).isTrue();
            assertFree(a, b);
        }

        @Test
        void aWaiterOnSeveralKeys_takesNoKeyUntilEveryKeyIsFree() throws Exception {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            locking.acquire(b, owner("holder"));
            Future<Lease> waiter = async(() -> locking.acquire(List.of(c, b, a), waitUpTo("owner-1", null, patience())));
            waiting().until(() -> counted.awaits() >= 1);
            assertFree(a, c);

            assertThat(locking.release(b, by("holder"))).isTrue();
            Lease lease = result(waiter);
            assertThat(lease.keys()).containsExactly(a, b, c);
            for (String k : List.of(a, b, c)) {
                assertThat(assertHeld(k).ownerId()).isEqualTo("owner-1");
            }
        }

        @Test
        void anInterruptEndsTheWait_keepsTheFlag_andLocksNothing() throws Exception {
            String a = key("a");
            String b = key("b");
            locking.acquire(b, owner("holder"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);
            Running waiter = start(() -> locking.acquire(List.of(a, b), waitUpTo("owner-1", null, patience())));
            waiting().until(() -> counted.awaits() >= 1);

            waiter.thread().interrupt();
            Outcome o = result(waiter.outcome());
            assertThat(o.failure()).isInstanceOf(LockingException.class).isNotInstanceOf(LockTimeoutException.class);
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertUnchanged(before);
        }
    }
}
