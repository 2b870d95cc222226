package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of the SPI directly: {@code extend}, fencing tokens; and concurrency (mutual exclusion, no
 * deadlock, one winner).
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class SpiChecks {

    private SpiChecks() {}

    abstract static class Extend extends KitGroup {

        Extend(KitFixture kit) {
            super(kit);
        }

        @Test
        void resetsTheLeaseOfTheOwnersKeys_andKeepsTheTokens() {
            String a = key("a");
            String b = key("b");
            AcquireResult taken = provider().tryAcquire(List.of(a, b), "owner-1", Duration.ofSeconds(10));
            assertThat(taken).isInstanceOf(AcquireResult.Acquired.class);

            Duration lease = Duration.ofSeconds(60);
            Instant before = Instant.now();
            assertThat(provider().extend(List.of(a, b), "owner-1", lease)).isTrue();
            Instant after = Instant.now();
            for (String k : List.of(a, b)) {
                LockInfo info = assertHeld(k);
                assertExpiresAbout(info.expiresAt(), before, after, lease, "expiry of " + k + " after extend");
                assertThat(info.fencingToken()).isEqualTo(((AcquireResult.Acquired) taken).fencingTokens().get(k));
            }
        }

        @Test
        void isRefusedForKeysTheOwnerDoesNotHold() {
            String mine = key("mine");
            String theirs = key("theirs");
            String anonymous = key("anonymous");
            String free = key("free");
            provider().tryAcquire(List.of(mine), "owner-1", Duration.ofSeconds(10));
            provider().tryAcquire(List.of(theirs), "owner-2", Duration.ofSeconds(10));
            provider().tryAcquire(List.of(anonymous), null, Duration.ofSeconds(10));
            Map<String, Optional<LockInfo>> before = snapshot(theirs, anonymous, free);

            assertThat(provider().extend(List.of(theirs), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().extend(List.of(anonymous), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().extend(List.of(free), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertThat(provider().extend(List.of(free, mine), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertUnchanged(before);
        }

        @Test
        void isRefusedAfterTheLeaseLapsed() {
            String a = key("a");
            provider().tryAcquire(List.of(a), "owner-1", shortLease());
            awaitFree(a, lapseBound());
            assertThat(provider().extend(List.of(a), "owner-1", Duration.ofSeconds(60))).isFalse();
            assertFree(a);
        }
    }

    abstract static class FencingTokens extends KitGroup {

        FencingTokens(KitFixture kit) {
            super(kit);
        }

        @Test
        void increaseAcrossReleases_throughAcquireAndExecute() {
            String a = key("a");
            String b = key("b");
            long lastA = Long.MIN_VALUE;
            long lastB = Long.MIN_VALUE;
            for (int i = 0; i < 4; i++) {
                Lease lease = locking.acquire(List.of(a, b), owner(i % 2 == 0 ? null : "owner-" + i));
                assertThat(lease.fencingTokens().get(a)).isGreaterThan(lastA);
                assertThat(lease.fencingTokens().get(b)).isGreaterThan(lastB);
                lastA = token(lease, a);
                lastB = token(lease, b);
                assertThat(locking.release(List.of(a, b), by(lease.ownerId()))).isTrue();

                long[] tokens = locking.execute(List.of(a, b), lock -> new long[] {lock.fencingToken(a), lock.fencingToken(b)});
                assertThat(tokens[0]).isGreaterThan(lastA);
                assertThat(tokens[1]).isGreaterThan(lastB);
                lastA = tokens[0];
                lastB = tokens[1];
            }
            Lease last = locking.acquire(a);
            locking.releaseAll();
            assertThat(locking.acquire(a).fencingTokens().get(a)).isGreaterThan(last.fencingTokens().get(a));
        }

        @Test
        void increaseAcrossExpiry() {
            String a = key("a");
            String b = key("b");
            Lease first = locking.acquire(List.of(a, b), owner("owner-1", shortLease()));
            awaitFree(a, lapseBound());
            awaitFree(b, lapseBound());
            Lease second = locking.acquire(List.of(b, a), owner("owner-1", shortLease()));
            assertThat(second.fencingTokens().get(a)).isGreaterThan(first.fencingTokens().get(a));
            assertThat(second.fencingTokens().get(b)).isGreaterThan(first.fencingTokens().get(b));
        }

        @Test
        void spi_increaseAcrossReleases() {
            String a = key("a");
            long last = Long.MIN_VALUE;
            for (int i = 0; i < 5; i++) {
                long token = token(provider().tryAcquire(List.of(a), "owner-1", null), a);
                assertThat(token).isGreaterThan(last);
                assertThat(assertHeld(a).fencingToken()).isEqualTo(token);
                last = token;
                assertThat(provider().release(List.of(a), "owner-1")).isTrue();
            }
        }
    }

    abstract static class Concurrency extends KitGroup {

        Concurrency(KitFixture kit) {
            super(kit);
        }

        @Test
        void eightThreadsOnOneKey_countExactly_withoutOverlap() throws Exception {
            String a = key("counter");
            assertExclusive(8, 25, thread -> locking, thread -> List.of(a));
            assertFree(a);
        }

        @Test
        void callsOnTwoKeysInOppositeOrders_neverDeadlock() throws Exception {
            String a = key("a");
            String b = key("b");
            assertExclusive(4, 40, thread -> locking, thread -> thread % 2 == 0 ? List.of(a, b) : List.of(b, a));
            assertFree(a, b);
        }

        @Test
        void eightOwnersRacingForOneKey_haveExactlyOneWinner() throws Exception {
            int owners = 8;
            for (int round = 0; round < 5; round++) {
                String a = key("race-" + round);
                CyclicBarrier start = new CyclicBarrier(owners);
                List<Future<Boolean>> racers = new ArrayList<>();
                for (int i = 0; i < owners; i++) {
                    String ownerId = "owner-" + i;
                    racers.add(async(() -> {
                        start.await(patience().toMillis(), TimeUnit.MILLISECONDS);
                        try {
                            locking.acquire(a, owner(ownerId, Duration.ofSeconds(60)));
                            return true;
                        } catch (LockAcquisitionException e) {
                            assertThat(e).hasMessage(acquireFailed(a));
                            return false;
                        }
                    }));
                }
                List<String> winners = new ArrayList<>();
                for (int i = 0; i < owners; i++) {
                    if (result(racers.get(i))) {
                        winners.add("owner-" + i);
                    }
                }
                assertThat(winners).as("winners of round %d", round).hasSize(1);
                assertThat(assertHeld(a).ownerId()).isEqualTo(winners.get(0));
            }
        }

        @Test
        void spi_racingForOverlappingKeys_isAllOrNothing() throws Exception {
            int owners = 8;
            String shared = key("shared");
            CyclicBarrier start = new CyclicBarrier(owners);
            List<Future<AcquireResult>> racers = new ArrayList<>();
            for (int i = 0; i < owners; i++) {
                String own = key("own-" + i);
                String ownerId = "owner-" + i;
                racers.add(async(() -> {
                    start.await(patience().toMillis(), TimeUnit.MILLISECONDS);
                    return provider().tryAcquire(List.of(own, shared), ownerId, Duration.ofSeconds(60));
                }));
            }
            int winners = 0;
            for (int i = 0; i < owners; i++) {
                AcquireResult r = result(racers.get(i));
                if (r instanceof AcquireResult.Acquired) {
                    winners++;
                    assertThat(assertHeld(shared).ownerId()).isEqualTo("owner-" + i);
                    assertThat(assertHeld(key("own-" + i)).ownerId()).isEqualTo("owner-" + i);
                } else {
                    assertThat(r).isEqualTo(new AcquireResult.Conflict(shared));
                    assertFree(key("own-" + i)); // all or nothing: the loser's own key was not taken
                }
            }
            assertThat(winners).isEqualTo(1);
        }
    }
}
