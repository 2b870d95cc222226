package dev.locking.spi.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The watcher that cuts off synchronous calls at their deadline, with an interruptible wait as the call. */
class CallDeadlinesTest {

    private final CallDeadlines deadlines = new CallDeadlines("test-call-deadlines");

    @AfterEach
    void close() {
        deadlines.close();
        Thread.interrupted();
    }

    @Test
    void aCallPastItsDeadline_isInterrupted_andEndClearsThatInterrupt() {
        CountDownLatch never = new CountDownLatch(1);
        CallDeadlines.Call call = deadlines.begin(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50));
        boolean interrupted = false;
        try {
            never.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        assertThat(interrupted).isTrue();
        assertThat(deadlines.end(call)).isTrue();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void aCallEndedInTime_isLeftAlone() throws InterruptedException {
        CallDeadlines.Call call = deadlines.begin(System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
        assertThat(new CountDownLatch(0).await(1, TimeUnit.SECONDS)).isTrue();
        assertThat(deadlines.end(call)).isFalse();
        assertThat(Thread.currentThread().isInterrupted()).isFalse();
    }

    @Test
    void callsThatEndAroundTheirDeadline_neverLeaveAnInterruptBehind() {
        int cutOff = 0;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (System.nanoTime() - until < 0 || cutOff == 0) {
            CallDeadlines.Call call = deadlines.begin(System.nanoTime());
            while (!Thread.currentThread().isInterrupted() && System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
            cutOff += deadlines.end(call) ? 1 : 0;
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            if (System.nanoTime() - until > TimeUnit.SECONDS.toNanos(60)) {
                break;
            }
        }
        assertThat(cutOff).isPositive();
    }
}
