package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.locking.api.Lease;
import dev.locking.api.LockInfo;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.ReleaseAllOptions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of interrupts: pending when a call starts, landing during acquire calls, during a wait; and
 * {@code awaitRelease}, the SPI call a wait is made of.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class InterruptChecks {

    private InterruptChecks() {}

    /**
     * A backend call that a pending interrupt cut short could leave its outcome unknown: the request went
     * out, the server took the lock, and the caller got an exception. The core does not let that happen
     * for an interrupt pending when a call starts: calls that do not wait do their work, and the flag is
     * still set afterwards for the caller's next blocking call to see.
     */
    abstract static class InterruptPendingAtACall extends KitGroup {

        InterruptPendingAtACall(KitFixture kit) {
            super(kit);
        }

        @Test
        void acquireInspectReleaseAndReleaseAll_doTheirWork() throws Exception {
            String a = key("a");
            String b = key("b");
            String c = key("c");
            Running caller = start(() -> {
                Thread.currentThread().interrupt();
                Lease lease = locking.acquire(List.of(a, b), owner("owner-1", Duration.ofSeconds(60)));
                locking.acquire(c, owner("owner-2"));
                boolean seen = locking.inspect(a).isPresent();
                boolean released = locking.release(List.of(a, b), by("owner-1"));
                locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-2").build());
                return List.of(lease.keys(), seen, released);
            });

            Outcome o = result(caller.outcome());
            assertThat(o.thrown()).as("no call failed").isNull();
            assertThat(o.value()).isEqualTo(List.of(List.of(a, b), true, true));
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertFree(a, b, c);
        }

        @Test
        void executeOnFreeKeys_runsTheJob_andReleases() throws Exception {
            String a = key("a");
            Running caller = start(() -> {
                Thread.currentThread().interrupt();
                return locking.execute(a, lock -> locking.inspect(a).map(LockInfo::fencingToken)
                        .filter(token -> token == lock.fencingToken(a)).isPresent(), patiently());
            });

            Outcome o = result(caller.outcome());
            assertThat(o.thrown()).as("execute did not fail").isNull();
            assertThat(o.value()).as("the job ran holding the key").isEqualTo(true);
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertFree(a);
        }

        @Test
        void aJobThatLeavesItsThreadInterrupted_isStillReleased() throws Exception {
            String a = key("a");
            Running caller = start(() -> locking.execute(a, lock -> {
                Thread.currentThread().interrupt();
                return "done";
            }, patiently()));

            Outcome o = result(caller.outcome());
            assertThat(o.thrown()).as("execute did not fail").isNull();
            assertThat(o.value()).isEqualTo("done");
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertFree(a);
        }
    }

    /**
     * Interrupts that land while a call talks to the backend (no wait involved): a client library may give
     * up on a request the server then carries out. Whatever a provider does about it, a caller must never
     * be told "failed" about a lock it holds (nobody would release it), nor "taken" about one it does not.
     */
    abstract static class InterruptsDuringCalls extends KitGroup {

        InterruptsDuringCalls(KitFixture kit) {
            super(kit);
        }

        @Test
        void acquireInterruptedAgainAndAgain_neverLeavesALockItReportedAsNotTaken() throws Exception {
            if (!acquiresSurviveInterrupts()) {
                abort("acquiresSurviveInterrupts returned false: the provider does not promise this yet");
            }
            int rounds = 200;
            locking.inspect(key("started")); // the provider is connected before the interrupts begin
            List<String> taken = new CopyOnWriteArrayList<>();
            List<String> failed = new CopyOnWriteArrayList<>();
            List<Throwable> unexpected = new CopyOnWriteArrayList<>();
            Thread caller = new Thread(() -> {
                for (int i = 0; i < rounds; i++) {
                    String k = key("int-" + i);
                    try {
                        locking.acquire(k, owner("owner-int"));
                        taken.add(k);
                    } catch (LockingException e) {
                        failed.add(k);
                    } catch (RuntimeException | Error e) {
                        unexpected.add(e);
                    }
                    Thread.interrupted();
                }
            }, "tck-interrupted-caller");
            Thread interrupter = new Thread(() -> {
                while (caller.isAlive()) {
                    caller.interrupt();
                    LockSupport.parkNanos(50_000); // pacing, so some calls run between interrupts
                }
            }, "tck-interrupter");
            caller.start();
            interrupter.start();
            caller.join(patience().multipliedBy(4).toMillis());
            interrupter.join(patience().toMillis());
            assertThat(caller.isAlive()).as("the caller finished").isFalse();

            assertThat(unexpected).isEmpty();
            assertThat(taken.size() + failed.size()).isEqualTo(rounds);
            for (String k : taken) {
                assertThat(held(k)).as("%s was reported taken", k).isPresent();
            }
            for (String k : failed) {
                assertThat(held(k)).as("%s was reported not taken", k).isEmpty();
            }
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-int").build());
        }
    }

    abstract static class InterruptDuringAWait extends KitGroup {

        InterruptDuringAWait(KitFixture kit) {
            super(kit);
        }

        @Test
        void anInterruptWhileExecuteWaits() throws Exception {
            String a = key("a");
            String b = key("b");
            locking.acquire(b, owner("owner-1"));
            Map<String, Optional<LockInfo>> before = snapshot(a, b);
            AtomicBoolean ran = new AtomicBoolean();
            Running waiter = start(() -> locking.execute(List.of(a, b), lock -> ran.getAndSet(true),
                    waitUpTo(patience().multipliedBy(2))));
            waiting().until(() -> counted.awaits() >= 1);

            waiter.thread().interrupt();
            Outcome o = result(waiter.outcome());
            assertThat(o.failure()).isInstanceOf(LockingException.class).isNotInstanceOf(LockTimeoutException.class);
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertThat(ran).isFalse();
            assertUnchanged(before);
            assertThat(locking.release(b, by("owner-1"))).isTrue();
            assertFree(a, b);
        }

        @Test
        void anInterruptBeforeExecuteWaits() throws Exception {
            String a = key("a");
            locking.acquire(a);
            AtomicBoolean ran = new AtomicBoolean();
            Running waiter = start(() -> {
                Thread.currentThread().interrupt();
                return locking.execute(a, lock -> ran.getAndSet(true), waitUpTo(patience().multipliedBy(2)));
            });

            Outcome o = result(waiter.outcome());
            assertThat(o.failure()).isInstanceOf(LockingException.class).isNotInstanceOf(LockTimeoutException.class);
            assertThat(o.interruptedAfter()).as("the interrupt flag stays set").isTrue();
            assertThat(ran).isFalse();
            assertThat(locking.release(a)).isTrue();
            assertFree(a);
        }

        @Test
        void spi_awaitRelease_answersAnInterruptWithInterruptedException() throws Exception {
            String a = key("a");
            provider().tryAcquire(List.of(a), null, null);
            List<String> keys = List.of(a);
            Running waiter = start(() -> {
                long deadline = System.nanoTime() + patience().toNanos();
                while (System.nanoTime() - deadline < 0) {
                    provider().awaitRelease(keys, patience()); // may return early; it must not swallow an interrupt
                }
                return "never interrupted";
            });

            waiter.thread().interrupt();
            assertThat(result(waiter.outcome()).failure()).isInstanceOf(InterruptedException.class);
            assertHeld(a);
        }
    }

    abstract static class AwaitRelease extends KitGroup {

        AwaitRelease(KitFixture kit) {
            super(kit);
        }

        @Test
        void returnsSoonAfterARelease() throws Exception {
            assertAwaitReleaseReturnsSoonAfterARelease(provider(), key("a"));
        }

        @Test
        void returnsAtOnceWhenTheKeysAreAlreadyFree() throws Exception {
            String a = key("a");
            String b = key("b");
            provider().tryAcquire(List.of(a, b), "owner-1", null);
            provider().release(List.of(a, b), "owner-1");
            // A release that came before the wait began must not be missed (no lost wake-up): execute calls
            // awaitRelease after a tryAcquire that found a key held, and the key may be released in between.
            long start = System.nanoTime();
            provider().awaitRelease(List.of(a, b), patience());
            provider().awaitRelease(List.of(key("never-held")), patience());
            assertThat(since(start)).isLessThan(wakeUpWithin());
        }

        @Test
        void returnsByMaxWaitWhenNothingHappens() throws Exception {
            String a = key("a");
            provider().tryAcquire(List.of(a), "owner-1", null);
            long start = System.nanoTime();
            provider().awaitRelease(List.of(a), Duration.ofMillis(200));
            assertThat(since(start)).isLessThan(Duration.ofMillis(200).plus(wakeUpWithin()));
            assertHeld(a);
        }
    }
}
