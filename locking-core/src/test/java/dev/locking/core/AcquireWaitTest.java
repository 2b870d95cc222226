package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockInfo;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseOptions;
import dev.locking.memory.MemoryProviderFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code acquire} with {@code wait}: woken by a release in another thread, all or nothing, a timeout and an
 * interrupt that leave nothing locked, through both of the core's waits (the notification path and the
 * backend's queue), on the real lp_memory.
 */
class AcquireWaitTest {
    private static final Duration PATIENCE = Duration.ofSeconds(20);

    private final TestProviders.CountingProvider provider =
            new TestProviders.CountingProvider(MemoryProviderFactory.newProvider("lp_counted"));
    private final LockingService locking = Locking.builder().provider(provider).defaultProvider("lp_counted").build();

    @AfterEach
    void close() {
        locking.close();
    }

    private static AcquireOptions waiting(Duration wait) {
        return AcquireOptions.builder().wait(wait).build();
    }

    private static AcquireOptions waitingAs(String owner, Duration expire, Duration wait) {
        return AcquireOptions.builder().ownerId(owner).expire(expire).wait(wait).build();
    }

    @Test
    void aWaitingAcquire_isWokenByAReleaseInAnotherThread() throws Exception {
        Lease held = locking.acquire("k");
        CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(() -> locking.acquire("k", waiting(PATIENCE)));
        await().atMost(PATIENCE).until(() -> provider.awaits.get() >= 1);
        assertThat(waiter).isNotDone();

        long released = System.nanoTime();
        assertThat(locking.release("k")).isTrue();
        Lease lease = waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - released)).as("woken by the release, not a slice")
                .isLessThan(Duration.ofMillis(1500));
        assertThat(lease.fencingTokens().get("k")).isGreaterThan(held.fencingTokens().get("k"));
        assertThat(lease.ownerId()).isNull();
        assertThat(lease.expiresAt()).isNull();
        // The lock outlives the call: it is still held, and nobody in the core counts it.
        assertThat(locking.inspect("k")).map(LockInfo::fencingToken).contains(lease.fencingTokens().get("k"));
        assertThat(((DefaultLockingService) locking).queue("lp_counted").lines()).isZero();
    }

    @Test
    void aWaitingAcquire_timesOut_withLockTimeoutException_andWritesNothing() {
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        Optional<LockInfo> before = locking.inspect("k");
        long start = System.nanoTime();

        assertThatThrownBy(() -> locking.acquire(List.of("free", "k"), waitingAs("me", Duration.ofSeconds(30),
                Duration.ofMillis(600))))
                .isInstanceOf(LockTimeoutException.class).hasMessage(LockTimeoutException.MESSAGE);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(550));
        assertThat(locking.inspect("k")).isEqualTo(before);
        assertThat(locking.inspect("free")).isEmpty();
    }

    @Test
    void aWaitingAcquireOnSeveralKeys_takesNoneUntilAllAreFree() throws Exception {
        locking.acquire("b", AcquireOptions.builder().ownerId("holder").build());
        CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(
                () -> locking.acquire(List.of("a", "b", "c"), waitingAs("me", Duration.ofSeconds(60), PATIENCE)));
        await().atMost(PATIENCE).until(() -> provider.awaits.get() >= 1);
        assertThat(locking.inspect("a")).as("no key is taken while one is held").isEmpty();
        assertThat(locking.inspect("c")).isEmpty();

        assertThat(locking.release("b", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        Lease lease = waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(lease.keys()).containsExactly("a", "b", "c");
        for (String key : lease.keys()) {
            assertThat(locking.inspect(key)).map(LockInfo::ownerId).contains("me");
        }
    }

    @Test
    void anInterruptedWaitingAcquire_throwsLockingException_keepsTheFlag_andLocksNothing() throws Exception {
        locking.acquire("b");
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicBoolean flag = new AtomicBoolean();
        Thread waiter = new Thread(() -> {
            try {
                locking.acquire(List.of("a", "b"), waiting(PATIENCE));
            } catch (Throwable t) {
                failure.set(t);
            }
            flag.set(Thread.currentThread().isInterrupted());
        });
        waiter.start();
        await().atMost(PATIENCE).until(() -> provider.awaits.get() >= 1);
        waiter.interrupt();
        waiter.join(PATIENCE.toMillis());

        assertThat(failure.get()).isInstanceOf(LockingException.class).isNotInstanceOf(LockTimeoutException.class);
        assertThat(flag).as("the interrupt flag stays set").isTrue();
        assertThat(locking.inspect("a")).isEmpty();
    }

    @Test
    void withoutWait_orWithZeroOrNull_acquireMakesOneAttempt() {
        locking.acquire("k");
        for (AcquireOptions once : List.of(AcquireOptions.DEFAULTS, waiting(Duration.ZERO),
                AcquireOptions.builder().wait(null).build())) {
            assertThatThrownBy(() -> locking.acquire("k", once)).isInstanceOf(LockAcquisitionException.class)
                    .hasMessage("Failed to acquire lock for key \"k\"");
        }
        assertThat(provider.awaits.get()).isZero();
    }

    @Test
    void aNegativeWait_isRejected_andWritesNothing() {
        int before = provider.calls.get();
        assertThatThrownBy(() -> locking.acquire("k", waiting(Duration.ofSeconds(-1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("wait must not be negative: PT-1S (key \"k\")");
        assertThat(provider.calls.get()).as("no provider call").isEqualTo(before);
        assertThat(locking.inspect("k")).isEmpty();
    }

    @Test
    void onAProviderThatHandsOff_aWaitingOwnerIsHandedTheKey_withItsFullLease() throws Exception {
        provider.handsOff = true;
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        Duration expire = Duration.ofMinutes(10);
        CompletableFuture<Lease> waiter = CompletableFuture.supplyAsync(
                () -> locking.acquire("k", waitingAs("me", expire, PATIENCE)));
        await().atMost(PATIENCE).until(() -> provider.awaitGrants.get() >= 1);

        assertThat(locking.release("k", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        Instant before = Instant.now();
        Lease lease = waiter.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(lease.ownerId()).isEqualTo("me");
        assertThat(lease.expiresAt()).as("the full lease, not the grant's short first lease")
                .isAfter(before.plus(expire).minusSeconds(30));
        assertThat(locking.inspect("k").orElseThrow().expiresAt()).isEqualTo(lease.expiresAt());
    }

    @Test
    void onAProviderThatHandsOff_aTimedOutOwnerLeavesTheQueue_andIsHandedNothing() {
        provider.handsOff = true;
        locking.acquire("k", AcquireOptions.builder().ownerId("holder").build());
        assertThatThrownBy(() -> locking.acquire("k", waitingAs("me", Duration.ofMinutes(1), Duration.ofMillis(600))))
                .isInstanceOf(LockTimeoutException.class);
        assertThat(provider.leaveQueues.get()).isEqualTo(1);

        assertThat(locking.release("k", ReleaseOptions.builder().ownerId("holder").build())).isTrue();
        assertThat(locking.inspect("k")).as("not handed to the call that gave up").isEmpty();
    }

    @Test
    void anExecuteWaitingBehindAWaitingAcquire_runsAfterTheAcquiresLockIsReleased() throws Exception {
        locking.acquire("k");
        CompletableFuture<Lease> acquirer = CompletableFuture.supplyAsync(() -> locking.acquire("k", waiting(PATIENCE)));
        await().atMost(PATIENCE).until(() -> provider.awaits.get() >= 1);
        CompletableFuture<String> executor = CompletableFuture.supplyAsync(() -> locking.execute("k", lock -> "ran",
                ExecuteOptions.builder().timeout(PATIENCE).build()));
        await().atMost(PATIENCE).until(() -> ((DefaultLockingService) locking).queue("lp_counted").waiting("k") >= 2);

        assertThat(locking.release("k")).isTrue();
        acquirer.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(executor).as("the acquire's lock is held after its call").isNotDone();
        assertThat(locking.release("k")).isTrue();
        assertThat(executor.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)).isEqualTo("ran");
    }
}
