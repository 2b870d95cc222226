package dev.locking.tck;

import static dev.locking.tck.LockingProviderConformance.PROVIDER_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.fail;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockInfo;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingService;
import dev.locking.spi.AcquireResult;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of {@code execute}: waiting, running the job and releasing; waking on release; the lease renewed
 * while the job runs; nested calls.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class ExecuteChecks {

    private ExecuteChecks() {}

    abstract static class Execute extends KitGroup {

        Execute(KitFixture kit) {
            super(kit);
        }

        @Test
        void runsTheJobWithEveryKeyHeld_underAFreshOwner_andReleasesThem() {
            String a = key("a");
            String b = key("b");
            List<String> owners = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Instant before = Instant.now();
                String result = locking.execute(List.of(b, a, b), lock -> {
                    Instant after = Instant.now();
                    assertThat(lock.keys()).containsExactly(a, b);
                    assertThat(lock.providerId()).isEqualTo(PROVIDER_ID);
                    assertThat(lock.isLost()).isFalse();
                    lock.throwIfLost();
                    for (String k : List.of(a, b)) {
                        LockInfo info = assertHeld(k);
                        assertThat(info.ownerId()).as("execute locks under an owner").isNotNull();
                        assertThat(info.fencingToken()).isEqualTo(lock.fencingToken(k));
                        assertExpiresAbout(info.expiresAt(), before, after, ExecuteOptions.DEFAULT_EXPIRE,
                                "expiry of an execute lock (default lease)");
                    }
                    owners.add(String.valueOf(assertHeld(a).ownerId()));
                    return "done";
                });
                assertThat(result).isEqualTo("done");
                assertFree(a, b);
            }
            assertThat(owners.get(1)).as("each execute has a fresh owner").isNotEqualTo(owners.get(0));
        }

        @Test
        void othersCannotTakeTheKeysWhileTheJobRuns() {
            String a = key("a");
            locking.execute(a, lock -> {
                assertAcquireFails(() -> locking.acquire(a), a);
                assertAcquireFails(() -> locking.acquire(a, owner("owner-1")), a);
                assertThat(locking.release(a)).as("release without the execute's owner").isFalse();
                assertHeld(a);
                return "done";
            });
            assertFree(a);
        }

        @Test
        void withoutAPositiveTimeout_waitsTheDefaultFiveSeconds() throws Exception {
            String a = key("a");
            locking.acquire(a);
            AtomicInteger ran = new AtomicInteger();
            List<Callable<Object>> calls = List.of(
                    () -> locking.execute(a, lock -> ran.incrementAndGet()),
                    () -> locking.execute(a, lock -> ran.incrementAndGet(), null),
                    () -> locking.execute(a, lock -> ran.incrementAndGet(), waitUpTo(Duration.ZERO)),
                    () -> locking.execute(a, lock -> ran.incrementAndGet(), waitUpTo(Duration.ofSeconds(-1))));
            List<Future<Duration>> waits = new ArrayList<>();
            for (Callable<Object> call : calls) {
                waits.add(async(() -> {
                    long start = System.nanoTime();
                    Throwable thrown = catchThrowable(call::call);
                    assertThat(thrown).isInstanceOf(LockTimeoutException.class).hasMessage("Timed-out acquiring lock.");
                    return since(start);
                }));
            }
            for (Future<Duration> wait : waits) {
                assertThat(result(wait)).isBetween(ExecuteOptions.DEFAULT_TIMEOUT.minusMillis(50),
                        ExecuteOptions.DEFAULT_TIMEOUT.plus(patience()));
            }
            assertThat(ran).hasValue(0);
        }

        @Test
        void anExplicitTimeout_endsTheWait() {
            String a = key("a");
            locking.acquire(a);
            long start = System.nanoTime();
            assertThatThrownBy(() -> locking.execute(a, lock -> "ran", waitUpTo(Duration.ofSeconds(1))))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessage("Timed-out acquiring lock.");
            assertThat(since(start)).isBetween(Duration.ofMillis(950), Duration.ofMillis(4500));
        }

        @Test
        void onTimeout_theJobNeverRan_andNothingStaysLocked() {
            String a = key("a");
            String b = key("b");
            locking.acquire(b, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);
            AtomicBoolean ran = new AtomicBoolean();

            assertThatThrownBy(() -> locking.execute(List.of(a, b), lock -> ran.getAndSet(true),
                    waitUpTo(Duration.ofSeconds(1))))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessage(LockTimeoutException.MESSAGE);
            assertThat(ran).isFalse();
            assertUnchanged(before);
            assertThat(locking.release(b, by("owner-1"))).isTrue();
            assertFree(a, b);
        }

        @Test
        void anUncheckedExceptionOfTheJob_propagatesUnchanged_andTheKeysAreReleased() {
            String a = key("a");
            String b = key("b");
            IllegalStateException boom = new IllegalStateException("boom");
            Throwable thrown = catchThrowable(() -> locking.execute(List.of(a, b), lock -> {
                throw boom;
            }));
            assertThat(thrown).isSameAs(boom);
            assertFree(a, b);
        }

        @Test
        void aCheckedExceptionOfTheJob_propagatesUnchanged_andTheKeysAreReleased() {
            String a = key("a");
            IOException io = new IOException("disk full");
            LockedJob<String, IOException> job = lock -> {
                throw io;
            };
            try {
                locking.execute(a, job);
                fail("execute returned although the job threw");
            } catch (IOException e) {
                assertThat(e).isSameAs(io);
            }
            assertFree(a);
        }

        @Test
        void anErrorOfTheJob_propagatesUnchanged_andTheKeysAreReleased() {
            String a = key("a");
            StackOverflowError error = new StackOverflowError("simulated");
            Throwable thrown = catchThrowable(() -> locking.execute(a, lock -> {
                throw error;
            }));
            assertThat(thrown).isSameAs(error);
            assertFree(a);
        }
    }

    abstract static class ExecuteWait extends KitGroup {

        ExecuteWait(KitFixture kit) {
            super(kit);
        }

        private Future<Long> waiterEnteringAt(LockingService service, String key) {
            return async(() -> service.execute(key, lock -> System.nanoTime(), patiently()));
        }

        @Test
        void aWaiter_runsSoonAfterARelease_throughTheService() throws Exception {
            String a = key("a");
            locking.acquire(a);
            Future<Long> entered = waiterEnteringAt(locking, a);
            waiting().until(() -> counted.awaits() >= 1);

            long released = System.nanoTime();
            assertThat(locking.release(a)).isTrue();
            assertThat(Duration.ofNanos(result(entered) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void aWaiter_runsSoonAfterARelease_behindTheServicesBack() throws Exception {
            String a = key("a");
            provider().tryAcquire(List.of(a), "outsider", null);
            Future<Long> entered = waiterEnteringAt(locking, a);
            waiting().until(() -> counted.awaits() >= 1);

            long released = System.nanoTime();
            assertThat(provider().release(List.of(a), "outsider")).isTrue();
            assertThat(Duration.ofNanos(result(entered) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void aWaiter_runsSoonAfterTheHoldersLeaseLapses() throws Exception {
            String a = key("a");
            long acquired = System.nanoTime();
            locking.acquire(a, owner("owner-1", shortLease()));
            Future<Long> entered = waiterEnteringAt(locking, a);

            assertThat(Duration.ofNanos(result(entered) - acquired))
                    .isGreaterThanOrEqualTo(shortLease().minus(clockTolerance()))
                    .isLessThan(shortLease().plus(clockTolerance()).plus(wakeUpWithin()));
        }

        @Test
        void waitersDoNotStarve_whileAnotherThreadLocksTheKeyAgainAndAgain() throws Exception {
            String a = key("a");
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger hogRounds = new AtomicInteger();
            Future<Integer> hog = async(() -> {
                while (!stop.get()) {
                    locking.execute(a, lock -> {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // work under the lock
                        return hogRounds.incrementAndGet();
                    }, patiently());
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // work outside it
                }
                return hogRounds.get();
            });
            waiting().until(() -> hogRounds.get() >= 2);

            List<Future<Long>> waiters = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                waiters.add(waiterEnteringAt(locking, a));
            }
            try {
                for (Future<Long> waiter : waiters) {
                    assertThat(result(waiter)).isPositive();
                }
            } finally {
                stop.set(true);
            }
            assertThat(result(hog)).isGreaterThanOrEqualTo(2);
        }
    }

    abstract static class ExecuteLease extends KitGroup {

        ExecuteLease(KitFixture kit) {
            super(kit);
        }

        @Test
        void theLeaseIsRenewed_whileTheJobRunsPastIt() throws Exception {
            String a = key("a");
            Duration lease = shortLease();
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch finish = new CountDownLatch(1);
            Future<String> job = async(() -> locking.execute(a, lock -> {
                started.countDown();
                if (!finish.await(patience().toMillis(), TimeUnit.MILLISECONDS)) {
                    return "the test never let the job finish";
                }
                return lock.isLost() ? "lost" : "done";
            }, ExecuteOptions.builder().expire(lease).timeout(patience()).build()));
            assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            long start = System.nanoTime();
            LockInfo first = assertHeld(a);

            awaitElapsed(start, lease.multipliedBy(3));
            LockInfo info = assertHeld(a);
            assertThat(info.ownerId()).isEqualTo(first.ownerId());
            assertThat(info.fencingToken()).isEqualTo(first.fencingToken());
            assertThat(info.expiresAt()).as("the renewed expiry").isNotNull().isAfter(Instant.now().minus(clockTolerance()));
            assertAcquireFails(() -> locking.acquire(a, owner("intruder")), a);
            assertThat(provider().tryAcquire(List.of(a), "intruder", null)).isEqualTo(new AcquireResult.Conflict(a));

            finish.countDown();
            assertThat(result(job)).isEqualTo("done");
            assertFree(a);
        }

        @Test
        void aLostLease_interruptsTheJob_andExecuteThrowsLockLostException() throws Exception {
            String a = key("a");
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            AtomicBoolean lostWhenInterrupted = new AtomicBoolean();
            AtomicReference<Throwable> throwIfLost = new AtomicReference<>();
            Future<Outcome> outcome = async(() -> capture(() -> locking.execute(a, lock -> {
                started.countDown();
                try {
                    boolean opened = never.await(patience().toMillis(), TimeUnit.MILLISECONDS);
                    return "the job was not interrupted (latch opened: " + opened + ")";
                } catch (InterruptedException e) {
                    lostWhenInterrupted.set(lock.isLost());
                    throwIfLost.set(catchThrowable(lock::throwIfLost));
                    return "interrupted";
                }
            }, ExecuteOptions.builder().expire(shortLease()).timeout(patience()).build())));
            assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            locking.releaseAll(); // the lock disappears behind the running job's back

            Outcome o = result(outcome);
            assertThat(o.failure()).isInstanceOf(LockLostException.class);
            assertThat(o.interruptedAfter()).as("interrupt flag after execute threw").isFalse();
            assertThat(lostWhenInterrupted).as("handle.isLost() when the job was interrupted").isTrue();
            assertThat(throwIfLost.get()).isInstanceOf(LockLostException.class);
            assertFree(a);
        }

        @Test
        void aLostLease_isReportedAlsoWhenTheJobIgnoresTheInterrupt_andTheFlagIsCleared() throws Exception {
            String a = key("a");
            CountDownLatch started = new CountDownLatch(1);
            AtomicBoolean sawInterrupt = new AtomicBoolean();
            Future<Outcome> outcome = async(() -> capture(() -> locking.execute(a, lock -> {
                started.countDown();
                long deadline = System.nanoTime() + patience().toNanos();
                while (!Thread.currentThread().isInterrupted() && System.nanoTime() - deadline < 0) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // returns at once when interrupted
                }
                sawInterrupt.set(Thread.currentThread().isInterrupted() && lock.isLost());
                return "the job's result, to be discarded";
            }, ExecuteOptions.builder().expire(shortLease()).timeout(patience()).build())));
            assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            provider().releaseAll(null); // straight through the SPI: the core cannot know

            Outcome o = result(outcome);
            assertThat(sawInterrupt).as("the job saw the interrupt and a lost handle").isTrue();
            assertThat(o.failure()).isInstanceOf(LockLostException.class);
            assertThat(o.interruptedAfter()).as("interrupt flag after execute threw").isFalse();
            assertFree(a);
        }
    }

    abstract static class NestedExecute extends KitGroup {

        NestedExecute(KitFixture kit) {
            super(kit);
        }

        @Test
        void aNestedCallOnKeysItsCallerHolds_runsAtOnce() {
            String a = key("a");
            String b = key("b");
            String result = locking.execute(List.of(a, b), outer -> {
                LockInfo before = assertHeld(a);
                long start = System.nanoTime();
                String inner = locking.execute(List.of(b, a), nested -> {
                    assertThat(nested.keys()).containsExactly(a, b);
                    assertThat(nested.fencingToken(a)).isEqualTo(outer.fencingToken(a));
                    return "inner";
                }, waitUpTo(Duration.ofSeconds(1)));
                assertThat(since(start)).as("a nested call does not wait on its caller").isLessThan(Duration.ofSeconds(1));
                assertThat(inner).isEqualTo("inner");
                LockInfo after = assertHeld(a);
                assertThat(after.ownerId()).isEqualTo(before.ownerId());
                assertThat(after.fencingToken()).isEqualTo(before.fencingToken());
                assertHeld(b);
                return "outer";
            });
            assertThat(result).isEqualTo("outer");
            assertFree(a, b);
        }

        @Test
        void aNestedCallOnMoreKeys_takesTheExtraOnes_andReleasesThemAtItsEnd() {
            String a = key("a");
            String b = key("b");
            locking.execute(a, outer -> {
                LockInfo before = assertHeld(a);
                locking.execute(List.of(a, b), nested -> {
                    assertThat(nested.keys()).containsExactly(a, b);
                    assertHeld(a);
                    assertHeld(b);
                    assertAcquireFails(() -> locking.acquire(b, owner("intruder")), b);
                    return "done";
                }, waitUpTo(Duration.ofSeconds(1)));
                assertFree(b);
                LockInfo after = assertHeld(a);
                assertThat(after.ownerId()).isEqualTo(before.ownerId());
                assertThat(after.fencingToken()).isEqualTo(before.fencingToken());
                return "done";
            });
            assertFree(a, b);
        }

        @Test
        void aNestedCallThatThrows_leavesTheOuterKeysHeld() {
            String a = key("a");
            String b = key("b");
            locking.execute(a, outer -> {
                IllegalStateException boom = new IllegalStateException("inner failed");
                Throwable thrown = catchThrowable(() -> locking.execute(List.of(a, b), nested -> {
                    throw boom;
                }));
                assertThat(thrown).isSameAs(boom);
                assertHeld(a);
                assertFree(b);
                return "done";
            });
            assertFree(a, b);
        }

        @Test
        void anotherThread_doesNotShareTheCallersKeys() throws Exception {
            String a = key("a");
            locking.execute(a, outer -> {
                Future<Outcome> other = async(() -> capture(
                        () -> locking.execute(a, lock -> "ran", waitUpTo(Duration.ofSeconds(1)))));
                assertThat(result(other).failure()).isInstanceOf(LockTimeoutException.class);
                return "done";
            });
            assertFree(a);
        }
    }
}
