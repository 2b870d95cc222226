package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockInfo;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseOptions;
import dev.locking.memory.MemoryProviderFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The core's wait in the backend's queue of a key (BackendQueueWait), on the real lp_memory, which hands off. */
class HandOffWaitTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final TestProviders.CountingProvider provider = handingOff();
    private final LockingService locking = Locking.builder().provider(provider).defaultProvider("lp_counted").build();

    private static TestProviders.CountingProvider handingOff() {
        TestProviders.CountingProvider p =
                new TestProviders.CountingProvider(MemoryProviderFactory.newProvider("lp_counted"));
        p.handsOff = true;
        return p;
    }

    @AfterEach
    void close() {
        locking.close();
    }

    private static ExecuteOptions waitUpTo(Duration timeout) {
        return ExecuteOptions.builder().timeout(timeout).build();
    }

    @Test
    void aSingleKeyCall_waitsInTheBackendQueue_andGetsTheKeyOnRelease() throws Exception {
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(
                () -> locking.execute("k", lock -> lock.fencingToken("k"), waitUpTo(PATIENCE)));
        await().atMost(PATIENCE).until(() -> provider.awaitGrants.get() >= 1);
        long held = locking.inspect("k").orElseThrow().fencingToken();

        assertThat(locking.release("k", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        assertThat(waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isGreaterThan(held);
        assertThat(provider.tryAcquires.get()).as("no tryAcquire for a single-key execute").isEqualTo(1);
        assertThat(locking.inspect("k")).isEmpty();
    }

    @Test
    void aTimedOutWait_sleepsInSlices_andLeavesTheQueue() {
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        long start = System.nanoTime();
        assertThatThrownBy(() -> locking.execute("k", lock -> "ran", waitUpTo(Duration.ofMillis(1200))))
                .isInstanceOf(LockTimeoutException.class);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1150));
        assertThat(provider.acquireOrQueues.get()).isBetween(1, 6);
        assertThat(provider.awaitGrants.get()).isBetween(1, 5);
        assertThat(provider.leaveQueues.get()).isEqualTo(1);

        // Left the queue: the release frees the key instead of handing it to the call that gave up.
        assertThat(locking.release("k", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        assertThat(locking.inspect("k")).isEmpty();
    }

    /**
     * A grant's lease counts from the last queue call that answered Conflict, which can be one whole wait
     * before the grant. With a short lease, a 2 s wait would leave the granted call little of its lease to
     * renew in, so the waits between queue calls are at most a quarter of the lease.
     */
    @Test
    void withAShortLease_theCallAsksTheQueueAgainWithinAQuarterOfIt() {
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        assertThatThrownBy(() -> locking.execute("k", lock -> "ran",
                ExecuteOptions.builder().timeout(Duration.ofMillis(1500)).expire(Duration.ofSeconds(2)).build()))
                .isInstanceOf(LockTimeoutException.class);
        assertThat(Duration.ofNanos(provider.longestAwaitGrant.get())).as("the longest wait for a grant")
                .isPositive().isLessThanOrEqualTo(Duration.ofMillis(500));
        assertThat(provider.acquireOrQueues.get()).as("queue calls in 1.5 s").isGreaterThanOrEqualTo(3);
    }

    /**
     * A queue entry stays two slices, or a third of the lease when that is longer: the stay is also a grant's
     * first lease, and a stay of 4 s alone turned stalls of a few seconds on a busy machine into lost leases of
     * granted calls (the kit's three-JVM check failed so, on three providers).
     */
    @Test
    void theStayInTheQueue_isTwoSlices_orAThirdOfTheLeaseWhenLonger() {
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        assertThatThrownBy(() -> locking.execute("k", lock -> "ran",
                ExecuteOptions.builder().timeout(Duration.ofMillis(200)).expire(Duration.ofSeconds(30)).build()))
                .isInstanceOf(LockTimeoutException.class);
        assertThat(provider.lastStay).as("stay with a 30 s lease").isEqualTo(Duration.ofSeconds(10));

        assertThatThrownBy(() -> locking.execute("k", lock -> "ran",
                ExecuteOptions.builder().timeout(Duration.ofMillis(200)).expire(Duration.ofSeconds(3)).build()))
                .isInstanceOf(LockTimeoutException.class);
        assertThat(provider.lastStay).as("stay with a 3 s lease: two 2 s slices").isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void anInterruptDuringTheWait_endsIt_keepsTheFlag_andLeavesTheQueue() throws Exception {
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean();
        Thread waiter = new Thread(() -> {
            try {
                locking.execute("k", lock -> "ran", waitUpTo(PATIENCE));
            } catch (Throwable t) {
                thrown.set(t);
            }
            flagAfter.set(Thread.currentThread().isInterrupted());
        });
        waiter.start();
        await().atMost(PATIENCE).until(() -> provider.awaitGrants.get() >= 1);
        waiter.interrupt();
        waiter.join(PATIENCE.toMillis());

        assertThat(thrown.get()).isInstanceOf(LockingException.class).hasMessageContaining("Interrupted");
        assertThat(flagAfter).isTrue();
        assertThat(provider.leaveQueues.get()).isEqualTo(1);
        assertThat(locking.release("k", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        assertThat(locking.inspect("k")).isEmpty();
    }

    @Test
    void aLeaveThatFails_releasesAKeyHandedToTheCallInTheBackground() {
        provider.failLeaveQueue = true;
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        assertThatThrownBy(() -> locking.execute("k", lock -> "ran", waitUpTo(Duration.ofMillis(300))))
                .isInstanceOf(LockTimeoutException.class);

        // The entry is still queued: the release hands the key to the call that gave up, and the background
        // release frees it.
        assertThat(locking.release("k", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        await().atMost(PATIENCE).until(() -> locking.inspect("k").isEmpty());
    }

    /**
     * A short wait slice, so that stay = 2 slices = 2 s: a job of a few seconds outlives a grant's lease. (Not
     * shorter: the first renewal must come within the stay on a busy machine.)
     */
    private static final Duration SLICE = Duration.ofSeconds(1);
    private static final Duration STAY = SLICE.multipliedBy(2);
    /** Short enough that a third of it is under the 2 s stay of two slices, so the stay is 2 s. */
    private static final Duration LEASE = Duration.ofSeconds(5);

    /** What the job saw once it had run for many stays. */
    private record Seen(long token, Optional<LockInfo> held, boolean lost, Instant at) {}

    /**
     * A call is handed the key (a grant: lease min(lease, stay) = the stay) and runs for 3 stays. The core must
     * renew early, to the full lease, so the key stays its own and the job completes.
     */
    private static void aGrantedJobOutlivingItsStay_keepsTheKey(LockingService service) throws Exception {
        service.acquire("g", AcquireOptions.builder().ownerId("holder").build());
        CompletableFuture<Seen> job = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                job.complete(service.execute("g", lock -> {
                    long start = System.nanoTime();
                    await().atMost(PATIENCE).until(() -> System.nanoTime() - start >= STAY.multipliedBy(3).toNanos());
                    return new Seen(lock.fencingToken("g"), service.inspect("g"), lock.isLost(), Instant.now());
                }, ExecuteOptions.builder().timeout(PATIENCE).expire(LEASE).build()));
            } catch (Throwable t) {
                job.completeExceptionally(t);
            }
        });
        caller.start();
        // The release must find the call queued and sleeping for its grant.
        await("the call queued in the backend, asleep in awaitGrant").atMost(PATIENCE)
                .until(() -> caller.getState() == Thread.State.TIMED_WAITING
                && Arrays.stream(caller.getStackTrace()).anyMatch(f -> f.getMethodName().equals("awaitGrant")));
        assertThat(service.release("g", ReleaseOptions.builder().ownerId("holder").build())).isTrue();

        Seen seen = job.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS); // no LockLostException
        assertThat(seen.lost()).as("the handle after 3 stays").isFalse();
        assertThat(seen.held()).as("the key after 3 stays (its grant lasted one stay)").isPresent();
        assertThat(seen.held().orElseThrow().fencingToken()).isEqualTo(seen.token());
        assertThat(seen.held().orElseThrow().expiresAt()).as("renewed to the full lease")
                .isAfter(seen.at().plus(LEASE.dividedBy(2)));
        assertThat(service.inspect("g")).isEmpty();
    }

    @Test
    void aGrantedKey_isRenewedEarly_toTheFullLease() throws Exception {
        try (LockingService fast = Locking.builder().provider(provider).defaultProvider("lp_counted")
                .waitSlice(SLICE).build()) {
            aGrantedJobOutlivingItsStay_keepsTheKey(fast);
            assertThat(provider.extends_.get()).as("renewals").isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void aGrantedKey_isRenewedEarly_onLpMemoryItself() throws Exception {
        try (LockingService fast = Locking.builder().provider(MemoryProviderFactory.newProvider("lp_memory"))
                .defaultProvider("lp_memory").waitSlice(SLICE).build()) {
            aGrantedJobOutlivingItsStay_keepsTheKey(fast);
        }
    }

    /** lp_memory as an application gets it: discovered, on the table its id shares across this JVM. */
    @Test
    void theDiscoveredLpMemory_handsOff_andAGrantedKeyIsRenewedEarly() throws Exception {
        try (LockingService discovered = Locking.builder().defaultProvider("lp_memory").waitSlice(SLICE).build()) {
            aGrantedJobOutlivingItsStay_keepsTheKey(discovered);
        }
    }
}
