package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.locking.api.LockInfo;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of the hand-off in one backend step ({@code handsOff()}, {@code acquireOrQueue},
 * {@code awaitGrant}, {@code leaveQueue}): through the SPI, and through {@code execute}. Skipped for a
 * provider whose {@code handsOff()} is false.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class HandOffChecks {

    private HandOffChecks() {}

    abstract static class HandOff extends KitGroup {

        HandOff(KitFixture kit) {
            super(kit);
        }

        @BeforeEach
        void onlyForProvidersThatHandOff() {
            if (!provider().handsOff()) {
                abort("handsOff() returned false: the provider does not hand released keys to queued owners");
            }
        }

        private static String exec(String name) {
            return "exec:tck:" + name;
        }

        private AcquireResult queue(String key, String owner) {
            return provider().acquireOrQueue(key, owner, patience(), patience());
        }

        private String holder(String key) {
            LockInfo info = assertHeld(key);
            assertThat(info.ownerId()).as("owner of %s", key).isNotNull();
            return info.ownerId();
        }

        @Test
        void aReleasedKey_goesToTheFirstQueuedOwner_withAHigherToken() throws Exception {
            String k = key("k");
            long first = token(queue(k, exec("a")), k);
            assertThat(queue(k, exec("b"))).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(queue(k, exec("c"))).isInstanceOf(AcquireResult.Conflict.class);
            Future<AcquireResult.Acquired> bWaits = async(() -> {
                AcquireResult.Acquired grant = null;
                while (grant == null) {
                    grant = provider().awaitGrant(k, exec("b"), patience());
                }
                return grant;
            });

            assertThat(provider().release(List.of(k), exec("a"))).isTrue();
            AcquireResult.Acquired toB = result(bWaits);
            assertThat(holder(k)).as("never free in between: handed to b").isEqualTo(exec("b"));
            long second = token(toB, k);
            assertThat(second).isGreaterThan(first).isEqualTo(assertHeld(k).fencingToken());
            assertThat(provider().tryAcquire(List.of(k), "someone", null))
                    .as("nobody barges past the queue").isInstanceOf(AcquireResult.Conflict.class);

            assertThat(provider().release(List.of(k), exec("b"))).isTrue();
            assertThat(holder(k)).isEqualTo(exec("c"));
            assertThat(assertHeld(k).fencingToken()).isGreaterThan(second);
            assertThat(token(queue(k, exec("c")), k)).as("c's next call sees its grant")
                    .isEqualTo(assertHeld(k).fencingToken());
        }

        @Test
        void anOwnerThatLeftTheQueue_isSkipped() {
            String k = key("k");
            queue(k, exec("a"));
            assertThat(queue(k, exec("b"))).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(queue(k, exec("c"))).isInstanceOf(AcquireResult.Conflict.class);

            provider().leaveQueue(k, exec("b"));
            provider().leaveQueue(k, exec("b")); // idempotent
            assertThat(provider().release(List.of(k), exec("a"))).isTrue();
            assertThat(holder(k)).isEqualTo(exec("c"));
        }

        @Test
        void anOwnerThatStoppedCalling_isSkippedAfterItsStay() {
            String k = key("k");
            queue(k, exec("a"));
            Duration stay = shortLease();
            long queued = System.nanoTime();
            assertThat(provider().acquireOrQueue(k, exec("b"), patience(), stay))
                    .isInstanceOf(AcquireResult.Conflict.class);
            assertThat(queue(k, exec("c"))).isInstanceOf(AcquireResult.Conflict.class);

            awaitElapsed(queued, stay.plus(clockTolerance()));
            assertThat(provider().release(List.of(k), exec("a"))).isTrue();
            assertThat(holder(k)).as("b's entry lapsed").isEqualTo(exec("c"));
        }

        @Test
        void aKeyHandedToAnOwnerThatLeaves_goesToTheNext() {
            String k = key("k");
            queue(k, exec("a"));
            queue(k, exec("b"));
            queue(k, exec("c"));
            assertThat(provider().release(List.of(k), exec("a"))).isTrue();
            assertThat(holder(k)).isEqualTo(exec("b"));
            long toB = assertHeld(k).fencingToken();

            provider().leaveQueue(k, exec("b"));
            assertThat(holder(k)).isEqualTo(exec("c"));
            assertThat(assertHeld(k).fencingToken()).isGreaterThan(toB);
            provider().leaveQueue(k, exec("c"));
            assertFree(k);
        }

        @Test
        void anOwnerThatTookTheKeyDirectly_andLeaves_releasesIt_toTheNext() {
            String k = key("k");
            long taken = token(queue(k, exec("a")), k); // as if the reply was lost: a does not know it holds k
            assertThat(queue(k, exec("b"))).isInstanceOf(AcquireResult.Conflict.class);

            provider().leaveQueue(k, exec("a"));
            assertThat(holder(k)).as("a's leaveQueue released the key it took, which went to b")
                    .isEqualTo(exec("b"));
            assertThat(assertHeld(k).fencingToken()).isGreaterThan(taken);
            provider().leaveQueue(k, exec("a")); // idempotent: b keeps it
            assertThat(holder(k)).isEqualTo(exec("b"));
        }

        @Test
        void aGrantedOwnerThatNeverRenews_losesTheKeyAfterItsStay_toTheNextLiveOwner() {
            String k = key("k");
            Duration stay = shortLease();
            queue(k, exec("a"));
            assertThat(provider().acquireOrQueue(k, exec("b"), patience(), stay))
                    .isInstanceOf(AcquireResult.Conflict.class);
            assertThat(queue(k, exec("c"))).isInstanceOf(AcquireResult.Conflict.class);

            Instant before = Instant.now();
            long released = System.nanoTime();
            assertThat(provider().release(List.of(k), exec("a"))).isTrue();
            assertThat(holder(k)).isEqualTo(exec("b"));
            long grantedToB = assertHeld(k).fencingToken();
            assertThat(assertHeld(k).expiresAt()).as("the grant's lease is min(lease, stay) = the stay")
                    .isNotNull().isBefore(Instant.now().plus(stay).plus(clockTolerance()))
                    .isAfter(before.plus(stay).minus(clockTolerance()));

            // b is dead: it never calls again. c's calls (which also keep its entry live) take the key once b's
            // short first lease has run out.
            waiting().atMost(lapseBound().multipliedBy(2)) // far less than b's lease: b's stay is what ends it
                    .until(() -> queue(k, exec("c")) instanceof AcquireResult.Acquired);
            assertThat(since(released)).as("b held the key until its stay ran out")
                    .isGreaterThanOrEqualTo(stay.minus(clockTolerance()));
            assertThat(holder(k)).isEqualTo(exec("c"));
            assertThat(assertHeld(k).fencingToken()).isGreaterThan(grantedToB);
        }

        @Test
        void aGrantMadeBeforeAwaitGrantStarts_isNotLost() throws Exception {
            String k = key("k");
            queue(k, exec("a"));
            assertThat(queue(k, exec("b"))).isInstanceOf(AcquireResult.Conflict.class);
            assertThat(provider().release(List.of(k), exec("a"))).isTrue(); // b does not wait yet

            long start = System.nanoTime();
            AcquireResult.Acquired grant = provider().awaitGrant(k, exec("b"), patience());
            assertThat(grant).as("the grant made before awaitGrant started").isNotNull();
            assertThat(since(start)).as("returned at once, not after a wait").isLessThan(wakeUpWithin());
            assertThat(token(grant, k)).isEqualTo(assertHeld(k).fencingToken());
            assertThat(holder(k)).isEqualTo(exec("b"));
        }

        @Test
        void anExecuteThatTimedOutOrWasInterrupted_leftTheQueue() throws Exception {
            String k = key("k");
            locking.acquire(k, owner("holder"));
            assertThatThrownBy(() -> locking.execute(k, lock -> "ran", waitUpTo(Duration.ofMillis(300))))
                    .isInstanceOf(LockTimeoutException.class);
            Running interrupted = start(() -> locking.execute(k, lock -> "ran", patiently()));
            waiting().until(() -> counted.acquireOrQueues() >= 2);
            interrupted.thread().interrupt();
            assertThat(result(interrupted.outcome()).failure()).isInstanceOf(LockingException.class);

            assertThat(locking.release(k, by("holder"))).isTrue();
            assertFree(k);
        }

        @Test
        void executeOnOneKey_isExclusive_andTokensIncrease() throws Exception {
            String k = key("k");
            List<Long> tokens = new ArrayList<>(); // unsynchronised on purpose: the lock guards it
            assertExclusive(8, 200, thread -> locking, thread -> List.of(k), lock -> tokens.add(lock.fencingToken(k)));
            assertThat(tokens).hasSize(8 * 200).isSorted().doesNotHaveDuplicates();
            assertFree(k);
        }

        @Test
        void executeOnSeveralKeys_completesWhileSingleKeyCallsQueue() throws Exception {
            String a = key("a");
            String b = key("b");
            int rounds = 30;
            List<Future<Integer>> workers = new ArrayList<>();
            for (String k : List.of(a, b, a, b)) {
                workers.add(async(() -> {
                    for (int r = 0; r < rounds; r++) {
                        locking.execute(k, lock -> {
                            pause();
                            return "done";
                        }, patiently());
                    }
                    return rounds;
                }));
            }
            Future<Integer> both = async(() -> {
                for (int r = 0; r < 5; r++) {
                    locking.execute(List.of(a, b), lock -> {
                        pause();
                        return "done";
                    }, patiently());
                }
                return 5;
            });
            for (Future<Integer> worker : workers) {
                assertThat(result(worker)).isEqualTo(rounds);
            }
            assertThat(result(both)).isEqualTo(5);
            assertFree(a, b);
        }
    }
}
