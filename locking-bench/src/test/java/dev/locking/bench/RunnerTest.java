package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RunnerTest {
    private static final Runner.Timing SHORT = new Runner.Timing(Duration.ofMillis(50), Duration.ofMillis(200),
            Duration.ofMillis(100));

    @Test
    void run_countsOperationsOfEveryThread_andRecordsTheirLatency() {
        Runner.Measurement m = Runner.run("count", 2, SHORT, (thread, i, giveUp) -> {
            TimeUnit.MILLISECONDS.sleep(1);
            return 1_000_000;
        });
        assertThat(m.ops()).isBetween(20L, 400L);
        assertThat(m.histogram().getTotalCount()).isEqualTo(m.ops());
        assertThat(m.histogram().getValueAtPercentile(50)).isBetween(999_000L, 1_001_000L);
        assertThat(m.opsPerSecond()).isEqualTo(m.ops() / 0.2);
        assertThat(m.errors()).isZero();
        assertThat(m.stuckThreads()).isZero();
    }

    @Test
    void warmup_lastsUntilTheOperationCount_butNoLongerThanTheCap() {
        Runner.Timing timing = new Runner.Timing(Duration.ZERO, Duration.ofMillis(50), Duration.ofMillis(50), 30,
                Duration.ofSeconds(5));
        Runner.Measurement m = Runner.run("warm", 1, timing, (thread, i, giveUp) -> {
            TimeUnit.MILLISECONDS.sleep(1);
            return 1;
        });
        assertThat(m.warmupOps()).isGreaterThanOrEqualTo(30);
        Runner.Timing capped = new Runner.Timing(Duration.ZERO, Duration.ofMillis(50), Duration.ofMillis(50),
                1_000_000, Duration.ofMillis(100));
        Runner.Measurement c = Runner.run("capped", 1, capped, (thread, i, giveUp) -> {
            TimeUnit.MILLISECONDS.sleep(1);
            return 1;
        });
        assertThat(c.warmupSeconds()).isBetween(0.09, 2.0);
    }

    @Test
    void failures_areCounted_andTheFirstIsKept() {
        Runner.Measurement m = Runner.run("fail", 1, SHORT, (thread, i, giveUp) -> {
            TimeUnit.MILLISECONDS.sleep(1);
            throw new IllegalStateException("boom " + (i % 2));
        });
        assertThat(m.ops()).isZero();
        assertThat(m.errors()).isPositive();
        assertThat(m.firstError()).startsWith("java.lang.IllegalStateException: boom");
    }

    @Test
    void aBlockedStep_isInterruptedAfterTheGrace_andNeverHangsTheRun() {
        long started = System.nanoTime();
        Runner.Measurement m = Runner.run("blocked", 2, SHORT, (thread, i, giveUp) -> {
            new CountDownLatch(1).await(); // answers the interrupt the runner sends
            return 0;
        });
        assertThat(m.ops()).isZero();
        assertThat(m.stuckThreads()).isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(2_000);
    }

    @Test
    void aStepThatIgnoresInterrupts_isAbandonedAndCountedStuck() {
        CountDownLatch release = new CountDownLatch(1);
        Runner.Measurement m = Runner.run("stuck", 1, SHORT, (thread, i, giveUp) -> {
            while (release.getCount() > 0) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    // swallowed, as RedissonMultiLock.lock() does
                }
            }
            return 0;
        });
        assertThat(m.stuckThreads()).isEqualTo(1);
        release.countDown();
    }
}
