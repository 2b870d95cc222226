package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockLostException;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.core.Locking;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.ThrowingSupplier;

/**
 * The only member of the cluster goes away (terminated, no graceful shutdown) while a client provider holds
 * locks and while {@code execute} runs a job: every call fails with {@link ProviderUnavailableException}
 * within a bounded time, a running job ends with {@link LockLostException} once its lease could not be
 * renewed, and the provider works again once a member is back.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MemberLossTest {

    /** operationTimeout and connectTimeout of the provider under test. */
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /** What "bounded" means here: generous for a busy machine, far below Hazelcast's own defaults (120 s). */
    private static final Duration BOUND = Duration.ofSeconds(15);

    private String cluster = "";
    private int port;
    private @Nullable HazelcastInstance member;
    private @Nullable LockingProvider provider;

    @BeforeEach
    void start() {
        cluster = TestMembers.clusterName("loss");
        port = TestMembers.freePort();
        member = startMember();
        provider = TestMembers.provider("lp_hazelcast", Map.of("members", "127.0.0.1:" + port,
                "clusterName", cluster, "connectTimeout", TIMEOUT.toMillis() + "ms",
                "operationTimeout", TIMEOUT.toString()));
    }

    private HazelcastInstance startMember() {
        return Hazelcast.newHazelcastInstance(TestMembers.memberConfig(cluster, port, List.of()));
    }

    @AfterEach
    void stop() {
        if (provider != null) {
            provider.close();
        }
        if (member != null) {
            member.getLifecycleService().terminate();
        }
    }

    private LockingProvider provider() {
        assertThat(provider).isNotNull();
        return java.util.Objects.requireNonNull(provider);
    }

    private void terminateMember() {
        assertThat(member).isNotNull();
        java.util.Objects.requireNonNull(member).getLifecycleService().terminate();
        member = null;
    }

    private static <T> Throwable failureWithin(Duration bound, ThrowingSupplier<T> call) {
        long start = System.nanoTime();
        Throwable failure = catchThrowable(call::get);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(bound);
        return failure;
    }

    @Test
    void everyCall_failsWithProviderUnavailable_inBoundedTime_andWorksAgainWhenAMemberIsBack() {
        assertThat(provider().tryAcquire(List.of("k"), "owner", Duration.ofMinutes(1))).isInstanceOf(Acquired.class);

        terminateMember();

        assertThat(failureWithin(BOUND, () -> provider().extend(List.of("k"), "owner", Duration.ofMinutes(1))))
                .isInstanceOf(ProviderUnavailableException.class).hasMessageContaining("lp_hazelcast");
        assertThat(failureWithin(BOUND, () -> provider().release(List.of("k"), "owner")))
                .isInstanceOf(ProviderUnavailableException.class);
        assertThat(failureWithin(BOUND, () -> provider().tryAcquire(List.of("other"), "owner", null)))
                .isInstanceOf(ProviderUnavailableException.class);
        assertThat(failureWithin(BOUND, () -> provider().inspect("k")))
                .isInstanceOf(ProviderUnavailableException.class);
        assertThat(failureWithin(BOUND, () -> {
            provider().awaitRelease(List.of("k"), Duration.ofSeconds(30));
            return null;
        })).isInstanceOf(ProviderUnavailableException.class);
        assertThat(failureWithin(BOUND, () -> {
            provider().releaseAll("owner");
            return null;
        })).isInstanceOf(ProviderUnavailableException.class);

        // A new member on the same address: the provider's client reconnects, or a new client replaces it.
        member = startMember();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(ProviderUnavailableException.class)
                .until(() -> provider().tryAcquire(List.of("again"), "owner", null) instanceof Acquired);
    }

    @Test
    void executeWhoseJobOutlivesTheLease_endsWithLockLost_inBoundedTime() throws Exception {
        CountDownLatch running = new CountDownLatch(1);
        AtomicBoolean interrupted = new AtomicBoolean();
        try (LockingService locking = Locking.builder().provider(provider()).defaultProvider("lp_hazelcast").build()) {
            Throwable[] outcome = new Throwable[1];
            Thread executing = new Thread(() -> outcome[0] = catchThrowable(() -> locking.execute("job-key", lock -> {
                running.countDown();
                try {
                    Thread.sleep(TimeUnit.MINUTES.toMillis(1)); // the job is busy; only an interrupt ends it early
                } catch (InterruptedException e) {
                    interrupted.set(true);
                    throw e;
                }
                return null;
            }, ExecuteOptions.builder().expire(Duration.ofSeconds(2)).build())), "executing");
            executing.start();
            assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();

            long start = System.nanoTime();
            terminateMember();
            executing.join(BOUND.toMillis() + 2 * TIMEOUT.toMillis());

            assertThat(executing.isAlive()).as("execute still running").isFalse();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND.plus(TIMEOUT.multipliedBy(2)));
            assertThat(interrupted).isTrue();
            assertThat(outcome[0]).isInstanceOf(LockLostException.class);
        }
    }

    /**
     * The job ends while its lease still runs, so the lock is not lost; only the release after it cannot
     * reach the cluster. The core (at the time of writing) logs that at WARN and returns the job's result,
     * leaving the lock to lapse with its lease; a core that reports it would throw the provider's
     * {@link ProviderUnavailableException}. Either way the call ends in bounded time.
     */
    @Test
    void executeWhoseJobEndsBeforeTheLeaseLapses_endsInBoundedTime_whenTheReleaseCannotReachTheCluster() {
        try (LockingService locking = Locking.builder().provider(provider()).defaultProvider("lp_hazelcast").build()) {
            long start = System.nanoTime();
            Object[] result = new Object[1];
            Throwable failure = catchThrowable(() -> result[0] = locking.execute("job-key", lock -> {
                terminateMember();
                return "done";
            }, ExecuteOptions.builder().expire(Duration.ofSeconds(30)).build()));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
            if (failure == null) {
                assertThat(result[0]).isEqualTo("done");
            } else {
                assertThat(failure).isInstanceOf(ProviderUnavailableException.class);
            }
        }
    }

    @Test
    void executeOnAClusterThatIsGone_failsWithProviderUnavailable_inBoundedTime() {
        terminateMember();
        try (LockingService locking = Locking.builder().provider(provider()).defaultProvider("lp_hazelcast").build()) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> locking.execute("job-key", lock -> "never"))
                    .isInstanceOf(ProviderUnavailableException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(BOUND);
        }
    }
}
