package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockLostException;
import dev.locking.api.LockingService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** close() lets go of what the service holds through running execute calls, instead of leaving it until the lease ends. */
class CloseTest {

    @Test
    void close_releasesTheKeysOfRunningExecuteCalls_andTheirHandlesTurnLost() throws Exception {
        try (LockingService other = Locking.builder().defaultProvider("lp_memory").build()) {
            LockingService closing = Locking.builder().defaultProvider("lp_memory").build();
            CountDownLatch taken = new CountDownLatch(1);
            CountDownLatch never = new CountDownLatch(1);
            ExecuteOptions longLease = ExecuteOptions.builder().expire(Duration.ofMinutes(10)).build();
            CompletableFuture<Boolean> job = CompletableFuture.supplyAsync(() -> {
                try {
                    return closing.execute("close:held", lock -> {
                        taken.countDown();
                        return never.await(60, TimeUnit.SECONDS);
                    }, longLease);
                } catch (InterruptedException e) {
                    throw new IllegalStateException("execute let the job's interrupt through", e);
                }
            });
            assertThat(taken.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(other.inspect("close:held")).isPresent();

            closing.close();

            assertThat(other.inspect("close:held")).as("the key after close()").isEmpty();
            assertThatThrownBy(() -> job.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(LockLostException.class);
        }
    }
}
