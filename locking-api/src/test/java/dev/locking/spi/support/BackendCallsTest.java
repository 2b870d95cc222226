package dev.locking.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BackendCallsTest {

    private final BackendCalls calls = new BackendCalls("lp_test", "TestBackend", Duration.ofSeconds(30),
            (failure, operation) -> new ProviderUnavailableException("translated " + operation + ": " + failure,
                    failure));
    private final BackendCalls shortCalls = new BackendCalls("lp_test", "TestBackend", Duration.ofMillis(300),
            (failure, operation) -> new ProviderUnavailableException("translated", failure));

    @AfterEach
    void close() {
        calls.close();
        shortCalls.close();
    }

    @Test
    void anAwaitedChangeIsNotCutShortByAnInterrupt_andTheFlagIsKept() throws Exception {
        CompletableFuture<String> reply = new CompletableFuture<>();
        AtomicReference<Object> outcome = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                outcome.set(calls.await(reply, "acquire"));
            } catch (RuntimeException e) {
                outcome.set(e);
            }
            flag.set(Thread.currentThread().isInterrupted());
        });
        caller.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> caller.getState() == Thread.State.TIMED_WAITING);
        caller.interrupt();
        // Still waiting for the reply after the interrupt.
        await().atMost(Duration.ofSeconds(20)).until(() -> caller.getState() == Thread.State.TIMED_WAITING);
        assertThat(outcome.get()).isNull();
        reply.complete("taken");
        caller.join(20_000);
        assertThat(outcome.get()).isEqualTo("taken");
        assertThat(flag.get()).isTrue();
    }

    @Test
    void aReplyThatNeverComesIsReportedAsMayHaveTakenEffect() {
        assertThatThrownBy(() -> shortCalls.await(new CompletableFuture<>(), "acquire"))
                .isInstanceOfSatisfying(BackendCallException.class, e -> {
                    assertThat(e.mayHaveTakenEffect()).isTrue();
                    assertThat(e.operation()).isEqualTo("acquire");
                    assertThat(e).hasMessageContaining("lp_test").hasMessageContaining("TestBackend")
                            .hasMessageContaining("acquire").hasMessageContaining("300 ms");
                });
    }

    @Test
    void aReadIsInterruptible_andAReadWithoutAnswerTookNoEffect() {
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> calls.awaitRead(new CompletableFuture<>(), "inspect"))
                .isInstanceOf(InterruptedException.class);
        assertThatThrownBy(() -> shortCalls.awaitRead(new CompletableFuture<>(), "inspect"))
                .isInstanceOfSatisfying(BackendCallException.class, e -> assertThat(e.mayHaveTakenEffect()).isFalse());
    }

    @Test
    void failuresGoToTheTranslator_butTheLibrarysOwnExceptionsPassThrough() {
        assertThatThrownBy(() -> calls.await(CompletableFuture.failedFuture(new java.io.IOException("reset")), "release"))
                .isInstanceOf(ProviderUnavailableException.class).hasMessage("translated release: java.io.IOException: reset");
        LockingException own = new LockingException("foreign data at key k");
        assertThatThrownBy(() -> calls.call(() -> {
            throw own;
        }, "acquire", true)).isSameAs(own);
        assertThatThrownBy(() -> calls.call(() -> {
            throw new java.io.IOException("refused");
        }, "acquire", true)).hasMessage("translated acquire: java.io.IOException: refused");
    }

    @Test
    void aSynchronousCallIsCutOffAtItsDeadline() {
        long start = System.nanoTime();
        assertThatThrownBy(() -> shortCalls.call(() -> {
            new CountDownLatch(1).await(); // a client that never answers, but answers interrupts
            return "never";
        }, "extend", false)).isInstanceOfSatisfying(BackendCallException.class,
                e -> assertThat(e.mayHaveTakenEffect()).isTrue());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        assertThat(Thread.currentThread().isInterrupted()).as("the deadline's own interrupt is cleared").isFalse();
    }

    @Test
    void aPendingInterruptDoesNotDisturbASynchronousCall_andIsKept() {
        Thread.currentThread().interrupt();
        String answer = calls.call(() -> {
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            return "ok";
        }, "acquire", false);
        assertThat(answer).isEqualTo("ok");
        assertThat(Thread.interrupted()).isTrue();
    }

    @Test
    void aRepeatableCallCutShortByAnInterruptRunsAgainOnAnotherThread() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        CopyOnWriteArrayList<String> threadsUsed = new CopyOnWriteArrayList<>();
        CountDownLatch firstAttemptWaiting = new CountDownLatch(1);
        AtomicReference<Object> outcome = new AtomicReference<>();
        AtomicReference<Boolean> flag = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                outcome.set(calls.call(() -> {
                    threadsUsed.add(Thread.currentThread().getName());
                    if (attempts.incrementAndGet() == 1) {
                        firstAttemptWaiting.countDown();
                        new CountDownLatch(1).await(); // interrupted below
                    }
                    return "taken";
                }, "acquire", true));
            } catch (RuntimeException e) {
                outcome.set(e);
            }
            flag.set(Thread.currentThread().isInterrupted());
        }, "caller");
        caller.start();
        firstAttemptWaiting.await(20, TimeUnit.SECONDS);
        caller.interrupt();
        caller.join(20_000);
        assertThat(outcome.get()).isEqualTo("taken");
        assertThat(attempts.get()).isEqualTo(2);
        assertThat(threadsUsed.get(0)).isEqualTo("caller");
        assertThat(threadsUsed.get(1)).startsWith("locking-recovery-lp_test");
        assertThat(flag.get()).isTrue();
    }

    @Test
    void aCallThatMustNotBeSentTwiceReportsThatItMayHaveTakenEffect() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        Object outcome = interruptedWhileBlocked(calls, "release", false, attempts);
        assertThat(outcome).isInstanceOfSatisfying(LockingException.class, e -> {
            assertThat(e).isNotInstanceOf(ProviderUnavailableException.class); // the backend may be fine
            assertThat(e).hasMessageContaining("release").hasMessageContaining("may still take effect");
        });
        assertThat(attempts.get()).isEqualTo(1);
    }

    @Test
    void afterCloseARepeatedCallIsRefused() throws Exception {
        calls.close();
        Object outcome = interruptedWhileBlocked(calls, "acquire", true, new AtomicInteger());
        assertThat(outcome).isInstanceOf(IllegalStateException.class);
    }

    /**
     * Makes a call on another thread whose every attempt blocks until interrupted, interrupts that thread once
     * the first attempt blocks, and returns what the call returned or threw.
     */
    private static Object interruptedWhileBlocked(BackendCalls calls, String operation, boolean repeatable,
            AtomicInteger attempts) throws InterruptedException {
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                outcome.set(calls.call(() -> {
                    attempts.incrementAndGet();
                    waiting.countDown();
                    new CountDownLatch(1).await();
                    return "answered";
                }, operation, repeatable));
            } catch (RuntimeException e) {
                outcome.set(e);
            }
        });
        caller.start();
        assertThat(waiting.await(20, TimeUnit.SECONDS)).isTrue();
        caller.interrupt();
        caller.join(20_000);
        return outcome.get();
    }
}
