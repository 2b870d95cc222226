package dev.locking.tck;

import static dev.locking.tck.LockingProviderConformance.PROVIDER_ID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.abort;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockInfo;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of distributed providers: two clients of one backend, a backend that is down, several JVMs,
 * the takeover race, the lost-lease deadline, foreign data at a lock's keys.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class DistributedChecks {

    /** How many lapsed locks {@code TakeoverRace} races for. */
    static final int TAKEOVER_ROUNDS = 200;
    /** The lease of a lock that {@code TakeoverRace} lets lapse: tiny, so that 200 rounds take seconds. */
    static final Duration TAKEOVER_LEASE = Duration.ofMillis(25);
    /** The lease of the {@code execute} that {@code LostLeaseDeadline} cuts off from its backend. */
    static final Duration LOST_LEASE = Duration.ofMillis(1500);

    private DistributedChecks() {}

    abstract static class TwoClients extends KitGroup {

        TwoClients(KitFixture kit) {
            super(kit);
        }

        @Test
        void aLockTakenThroughOneClient_isSeenAndBlocksThroughTheOther() {
            LockingService other = second();
            String a = key("a");
            String b = key("b");
            Lease lease = locking.acquire(a, owner("owner-1", Duration.ofSeconds(60)));
            Optional<LockInfo> seen = other.inspect(a);
            assertThat(seen).isPresent();
            assertThat(seen.get().ownerId()).isEqualTo("owner-1");
            assertThat(seen.get().fencingToken()).isEqualTo(lease.fencingTokens().get(a));
            assertAcquireFails(() -> other.acquire(a, owner("owner-2")), a);
            assertAcquireFails(() -> other.acquire(a), a);
            assertThatThrownBy(() -> other.execute(a, lock -> "ran", waitUpTo(Duration.ofSeconds(1))))
                    .isInstanceOf(LockTimeoutException.class);

            other.acquire(b);
            assertAcquireFails(() -> locking.acquire(b), b);
            assertThat(locking.release(b)).as("an anonymous lock of the other client").isTrue();
            assertThat(other.inspect(b)).isEmpty();
        }

        @Test
        void aReleaseThroughOneClient_wakesAnExecuteWaitingOnTheOther() throws Exception {
            LockingService other = second();
            CountingProvider otherCalls = secondCounted();
            String a = key("a");
            locking.acquire(a);
            Future<Long> entered = async(() -> other.execute(a, lock -> System.nanoTime(), patiently()));
            waiting().until(() -> otherCalls.awaits() >= 1);

            long released = System.nanoTime();
            assertThat(locking.release(a)).isTrue();
            assertThat(Duration.ofNanos(result(entered) - released)).isLessThan(wakeUpWithin());
        }

        @Test
        void spi_awaitReleaseOnOneClient_returnsSoonAfterAReleaseThroughTheOther() throws Exception {
            second();
            LockingProvider other = secondBackend();
            assertThat(other).isNotNull();
            assertAwaitReleaseReturnsSoonAfterARelease(other, key("a"));
        }

        @Test
        void anOwnerIsTheSameOwnerThroughEitherClient() {
            LockingService other = second();
            String a = key("a");
            Lease first = locking.acquire(a, owner("owner-1", Duration.ofSeconds(10)));
            Lease again = other.acquire(a, owner("owner-1", Duration.ofSeconds(60)));
            assertThat(again.fencingTokens()).isEqualTo(first.fencingTokens());
            assertThat(other.release(a, by("owner-1"))).isTrue();
            assertFree(a);
        }

        @Test
        void executeThroughBothClients_countsExactly_withoutOverlap() throws Exception {
            LockingService other = second();
            String a = key("counter");
            assertExclusive(4, 20, thread -> thread % 2 == 0 ? locking : other, thread -> List.of(a));
        }

        @Test
        void fencingTokensContinueInANewClient() {
            second();
            String a = key("a");
            Lease lease = locking.acquire(a);
            assertThat(locking.release(a)).isTrue();
            LockingProvider fresh = newSecondClient(PROVIDER_ID);
            assertThat(fresh).isNotNull();
            try {
                AcquireResult result = fresh.tryAcquire(List.of(a), null, null);
                assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
                assertThat(((AcquireResult.Acquired) result).fencingTokens().get(a))
                        .isGreaterThan(lease.fencingTokens().get(a));
            } finally {
                fresh.close();
            }
        }
    }

    abstract static class BackendDown extends KitGroup {

        BackendDown(KitFixture kit) {
            super(kit);
        }

        @Test
        void everyCallFails_withProviderUnavailableException_inBoundedTime() throws Exception {
            LockingProvider down = newUnreachableProvider(PROVIDER_ID);
            if (down == null) {
                abort("newUnreachableProvider returned null: no unreachable backend to try");
                return;
            }
            assertThat(down.id()).isEqualTo(PROVIDER_ID);
            LockingService service = serviceAround(down); // building connects to nothing
            try {
                String a = key("a");
                AtomicBoolean ran = new AtomicBoolean();
                Map<String, Callable<?>> calls = new LinkedHashMap<>();
                calls.put("acquire", () -> service.acquire(a, owner("owner-1", Duration.ofSeconds(30))));
                calls.put("execute", () -> service.execute(a, lock -> ran.getAndSet(true), waitUpTo(Duration.ofSeconds(2))));
                calls.put("release", () -> service.release(a));
                calls.put("releaseAll", () -> {
                    service.releaseAll();
                    return null;
                });
                calls.put("inspect", () -> service.inspect(a));
                Map<String, Future<Duration>> running = new LinkedHashMap<>();
                calls.forEach((name, call) -> running.put(name, async(() -> {
                    long start = System.nanoTime();
                    Outcome o = capture(call);
                    assertThat(o.failure()).as(name).isInstanceOf(ProviderUnavailableException.class);
                    return since(start);
                })));
                for (Map.Entry<String, Future<Duration>> call : running.entrySet()) {
                    Duration took;
                    try {
                        took = call.getValue().get(unavailableWithin().plus(patience()).toMillis(), TimeUnit.MILLISECONDS);
                    } catch (ExecutionException e) {
                        throw new AssertionError(call.getKey() + ": " + e.getCause(), e.getCause());
                    }
                    assertThat(took).as("%s on an unreachable backend took", call.getKey()).isLessThan(unavailableWithin());
                }
                assertThat(ran).isFalse();
            } finally {
                service.close();
                down.close();
            }
        }
    }

    abstract static class SeveralJvms extends KitGroup {

        SeveralJvms(KitFixture kit) {
            super(kit);
        }

        private MultiJvmContention contention() {
            Map<String, String> properties = childJvmProperties();
            if (properties == null) {
                return abort("childJvmProperties returned null: the provider is in-process");
            }
            return MultiJvmContention.builder()
                    .systemProperties(properties)
                    .jvms(3)
                    .iterations(20)
                    .key(key("jvm"))
                    .timeout(Duration.ofMinutes(2))
                    .executeTimeout(Duration.ofSeconds(60))
                    .build();
        }

        @Test
        void executeExcludesAcrossJvms() throws Exception {
            MultiJvmContention.Result result = contention().run();
            assertThat(result.allExitedNormally()).as("children exited normally; %s", result.stderrTail()).isTrue();
            assertThat(result.overlaps()).isZero();
            assertThat(result.counter()).isEqualTo(result.expectedCounter());
            assertFree(key("jvm"));
        }

        @Test
        void aKilledHoldersLock_freesWhenItsLeaseLapses() {
            MultiJvmContention contention = contention();
            String a = key("held");
            Duration lease = shortLease().multipliedBy(3);
            try (MultiJvmContention.Holder holder = contention.startHolder(a, lease)) {
                long token = holder.awaitHeld(Duration.ofMinutes(1));
                LockInfo info = assertHeld(a);
                assertThat(info.fencingToken()).isEqualTo(token);
                assertAcquireFails(() -> locking.acquire(a, owner("owner-1")), a);

                holder.kill(); // SIGKILL: nothing is released, the lease must run out
                awaitFree(a, lease.plus(Duration.ofSeconds(1)).plus(clockTolerance()));
                assertThat(locking.acquire(a).fencingTokens().get(a)).isGreaterThan(token);
            }
        }
    }

    /**
     * Two clients take over one lapsed, never-renewed lock at the same moment, {@value #TAKEOVER_ROUNDS}
     * rounds: never may both succeed, and the winner's token is above the lapsed lock's. The details are in
     * {@link TakeoverRaceCheck}.
     */
    abstract static class TakeoverRace extends KitGroup {

        TakeoverRace(KitFixture kit) {
            super(kit);
        }

        @Test
        void twoClientsTakingOverALapsedLock_neverBothWin() throws Exception {
            second();
            LockingProvider other = secondBackend();
            assertThat(other).isNotNull();
            TakeoverRaceCheck race = new TakeoverRaceCheck(provider(), other, pool, patience());

            int races = race.run(key(""), TAKEOVER_ROUNDS, TAKEOVER_LEASE);

            assertThat(races).as("races run (a round races again when its lock has not lapsed yet)")
                    .isGreaterThanOrEqualTo(TAKEOVER_ROUNDS);
        }
    }

    /**
     * A holder cut off from its backend (a {@link LoopbackProxy} that drops all traffic) while its
     * {@code execute} runs: its handle turns lost one lease after its last confirmed renewal was sent (within
     * 100 ms by the semantics, plus the margin {@link #lostLeaseAllowance()} gives a busy machine), never a
     * renewal period early, the job is interrupted, {@code execute} throws {@link LockLostException} within
     * {@link #patience()}, and another client of the backend takes the key once the lease has lapsed.
     */
    abstract static class LostLeaseDeadline extends KitGroup {

        LostLeaseDeadline(KitFixture kit) {
            super(kit);
        }

        @Test
        void aHolderCutOffFromItsBackend_turnsLostOneLeaseAfterItsLastRenewal_andAnotherClientTakesTheKey()
                throws Exception {
            InetSocketAddress backendAddress = backendAddress();
            if (backendAddress == null) {
                abort("backendAddress returned null: no backend to cut a client off from");
                return;
            }
            LoopbackProxy proxy = new LoopbackProxy(backendAddress);
            LockingProvider cutOff = null;
            try {
                cutOff = newProviderThrough(PROVIDER_ID, proxy.address());
                if (cutOff == null) {
                    abort("newProviderThrough returned null: the provider cannot be put behind a proxy");
                    return;
                }
                assertThat(cutOff.id()).isEqualTo(PROVIDER_ID);
                checkLostLeaseDeadline(proxy, new CountingProvider(cutOff));
            } finally {
                proxy.close(); // first, so that closing the client finds its connections closed, not silent
                if (cutOff != null) {
                    cutOff.close();
                }
            }
        }

        private void checkLostLeaseDeadline(LoopbackProxy proxy, CountingProvider cutOff) throws Exception {
            String a = key("a");
            Duration lease = LOST_LEASE;
            Duration period = lease.dividedBy(3); // the renewal period of DESIGN.md
            AtomicLong token = new AtomicLong();
            AtomicLong lostAt = new AtomicLong();
            CountDownLatch started = new CountDownLatch(1);
            try (LockingService service = serviceAround(cutOff)) {
                Future<Outcome> outcome = async(() -> capture(() -> service.execute(a, lock -> {
                    token.set(lock.fencingToken(a));
                    started.countDown();
                    long deadline = System.nanoTime() + patience().toNanos();
                    while (!lock.isLost() && System.nanoTime() - deadline < 0) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // returns at once when interrupted
                    }
                    if (lock.isLost()) {
                        lostAt.set(System.nanoTime());
                    }
                    return lock.isLost() ? "lost" : "never lost";
                }, ExecuteOptions.builder().expire(lease).timeout(patience()).build())));
                assertThat(started.await(patience().toMillis(), TimeUnit.MILLISECONDS)).as("the job started").isTrue();
                waiting().pollInterval(Duration.ofMillis(1)).until(() -> cutOff.confirmedExtends() >= 1);

                long cutAt = System.nanoTime();
                proxy.cut();

                Outcome o;
                try {
                    o = outcome.get(patience().multipliedBy(2).toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    throw new AssertionError("execute on a cut-off backend did not return within "
                            + patience().multipliedBy(2), e);
                }
                long lost = lostAt.get();
                assertThat(lost).as("when the handle turned lost (0: not within %s of the cut; execute gave %s)",
                        patience(), o).isNotZero();
                long confirmedSend = cutOff.lastConfirmedExtendSentNanos();
                Duration afterCut = Duration.ofNanos(lost - cutAt);
                Duration afterRenewal = Duration.ofNanos(lost - confirmedSend);
                assertThat(afterCut)
                        .as("time from the cut to the lost handle (lease %s; the last confirmed renewal was sent %s"
                                + " before the cut and the handle turned lost %s after it; the semantics allow"
                                + " lease + 100 ms after it, the kit lease + %s)", lease,
                                Duration.ofNanos(cutAt - confirmedSend), afterRenewal, lostLeaseAllowance())
                        .isLessThanOrEqualTo(lease.plus(lostLeaseAllowance()))
                        .isGreaterThanOrEqualTo(lease.minus(period));
                assertThat(o.failure()).isInstanceOf(LockLostException.class);
                assertThat(o.interruptedAfter()).as("interrupt flag after execute threw").isFalse();
            }

            AtomicReference<AcquireResult> taken = new AtomicReference<>();
            waiting().atMost(clockTolerance().plus(Duration.ofSeconds(2))).until(() -> {
                AcquireResult r = provider().tryAcquire(List.of(a), "after-the-cut", Duration.ofSeconds(30));
                taken.set(r);
                return r instanceof AcquireResult.Acquired;
            });
            AcquireResult afterTheCut = taken.get();
            assertThat(afterTheCut).isNotNull();
            assertThat(token(afterTheCut, a)).as("the new holder's token").isGreaterThan(token.get());
        }
    }

    /**
     * Data that the provider did not write, at the place where it would keep a lock (planted by
     * {@link #plantForeignData(String)}): calls on that key fail with a {@link LockingException} that names
     * the key and is not a {@link ProviderUnavailableException} (the backend answered), they change nothing
     * (the free keys of a multi-key acquire stay free), and calls on other keys and other owners work as
     * before. The foreign data stays behind; the kit's clean-up after each test tolerates a
     * {@code releaseAll()} that reports it.
     */
    abstract static class ForeignData extends KitGroup {

        ForeignData(KitFixture kit) {
            super(kit);
        }

        private String plant(String name) {
            String k = key(name);
            if (!plantForeignData(k)) {
                return abort("plantForeignData returned false: the backend has no foreign data to plant");
            }
            markForeignDataPlanted();
            return k;
        }

        /** A failure that is about the foreign data: a LockingException naming the key, the backend reachable. */
        private void assertReportsForeignData(@Nullable Throwable thrown, String foreign, String call) {
            assertThat(thrown).as("what %s on a key with foreign data threw", call)
                    .isInstanceOf(LockingException.class)
                    .isNotInstanceOf(ProviderUnavailableException.class)
                    .hasMessageContaining(foreign);
        }

        @Test
        void acquire_failsWithALockingExceptionNamingTheKey_andTakesNothing() {
            String foreign = plant("foreign");
            for (String call : List.of("acquire by owner-1", "acquire by owner-1 again", "anonymous acquire")) {
                AcquireOptions options = call.startsWith("anonymous") ? AcquireOptions.builder()
                        .expire(Duration.ofSeconds(30)).build() : owner("owner-1", Duration.ofSeconds(30));
                assertReportsForeignData(catchThrowable(() -> locking.acquire(foreign, options)), foreign, call);
            }
            Optional<LockInfo> seen = Optional.empty();
            Throwable inspectFailure = catchThrowable(() -> locking.inspect(foreign));
            if (inspectFailure != null) {
                assertReportsForeignData(inspectFailure, foreign, "inspect");
            } else {
                seen = locking.inspect(foreign);
            }
            assertThat(seen.map(LockInfo::ownerId)).as("the owner inspect reports after the failed acquires")
                    .isNotEqualTo(Optional.of("owner-1"));

            AtomicBoolean ran = new AtomicBoolean();
            Throwable executed = catchThrowable(() -> locking.execute(foreign, lock -> ran.getAndSet(true),
                    waitUpTo(Duration.ofSeconds(1))));
            assertThat(executed).as("what execute on a key with foreign data threw")
                    .isInstanceOf(LockingException.class)
                    .isNotInstanceOf(ProviderUnavailableException.class);
            assertThat(ran).as("the job ran").isFalse();

            AtomicBoolean releasedIt = new AtomicBoolean();
            Throwable released = catchThrowable(() -> releasedIt.set(locking.release(foreign)));
            if (released != null) {
                assertReportsForeignData(released, foreign, "release");
            } else {
                assertThat(releasedIt).as("release of a key with foreign data: nothing to release").isFalse();
            }
        }

        @Test
        void aMultiKeyAcquireWithAForeignKey_fails_andLeavesTheFreeKeysFree() {
            String before = key("a-free");
            String foreign = plant("m-foreign");
            String after = key("z-free");
            Throwable thrown = catchThrowable(() -> locking.acquire(List.of(after, foreign, before),
                    owner("owner-1", Duration.ofSeconds(30))));
            assertReportsForeignData(thrown, foreign, "a multi-key acquire");
            assertFree(before, after);

            Lease lease = locking.acquire(List.of(before, after), owner("owner-1", Duration.ofSeconds(30)));
            assertThat(lease.keys()).containsExactly(before, after);
            assertThat(locking.release(List.of(before, after), by("owner-1"))).isTrue();
        }

        @Test
        void releaseAndReleaseAllOfAnotherOwnersLocks_stillWork() {
            String foreign = plant("foreign");
            assertReportsForeignData(catchThrowable(() -> locking.acquire(foreign, owner("other"))), foreign,
                    "acquire by other");
            String b = key("b");
            String c = key("c");
            String d = key("d");
            locking.acquire(List.of(b, c), owner("other", Duration.ofSeconds(30)));
            locking.acquire(d, owner("owner-1", Duration.ofSeconds(30)));

            assertThat(locking.release(b, by("other"))).isTrue();
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("other").build());
            assertFree(b, c);
            assertThat(assertHeld(d).ownerId()).isEqualTo("owner-1");
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("owner-1").build());
            assertFree(d);
        }

        @Test
        void releaseAll_stillReleasesEveryOtherLock() {
            String foreign = plant("foreign");
            String b = key("b");
            String c = key("c");
            String d = key("d");
            locking.acquire(b);
            locking.acquire(c, owner("owner-1", Duration.ofSeconds(30)));
            locking.acquire(d, owner("owner-2"));

            Throwable thrown = catchThrowable(() -> locking.releaseAll());
            if (thrown != null) { // leaving the foreign data alone and saying so is allowed
                assertReportsForeignData(thrown, foreign, "releaseAll()");
            }
            assertFree(b, c, d);
        }
    }
}
