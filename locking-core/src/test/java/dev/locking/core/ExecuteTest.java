package dev.locking.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.memory.MemoryProviderFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The core's own share of execute: waiting, nesting, renewal and loss, on the real lp_memory. */
class ExecuteTest {
    private final TestProviders.CountingProvider provider =
            new TestProviders.CountingProvider(MemoryProviderFactory.newProvider("lp_counted"));
    private final LockingService locking = Locking.builder().provider(provider).defaultProvider("lp_counted").build();

    @AfterEach
    void close() {
        locking.close();
    }

    @Nested
    class Waiting {
        @Test
        void aTimedOutWait_sleepsInSlicesOnTheProvider_insteadOfSpinning() {
            locking.acquire("held");
            long start = System.nanoTime();
            assertThatThrownBy(() -> locking.execute("held", lock -> "ran",
                    ExecuteOptions.builder().timeout(Duration.ofMillis(1200)).build()))
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessage("Timed-out acquiring lock.");
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1150));
            // 1.2 s in slices of at most 2 s: a handful of attempts, not thousands.
            assertThat(provider.tryAcquires.get()).isBetween(2, 6);
            assertThat(provider.awaits.get()).isBetween(1, 5);
        }

        @Test
        void anInterruptDuringTheWait_endsIt_keepsTheFlag_andLocksNothing() throws Exception {
            locking.acquire(List.of("a", "b"), AcquireOptions.builder().ownerId("holder").build());
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicBoolean flagAfter = new AtomicBoolean();
            Thread waiter = new Thread(() -> {
                try {
                    locking.execute(List.of("a", "c"), lock -> "ran",
                            ExecuteOptions.builder().timeout(Duration.ofSeconds(30)).build());
                } catch (Throwable t) {
                    thrown.set(t);
                    flagAfter.set(Thread.currentThread().isInterrupted());
                }
            });
            waiter.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> provider.awaits.get() >= 1
                    && (waiter.getState() == Thread.State.WAITING || waiter.getState() == Thread.State.TIMED_WAITING));
            waiter.interrupt();
            waiter.join(TimeUnit.SECONDS.toMillis(10));
            assertThat(waiter.isAlive()).isFalse();
            assertThat(thrown.get()).isExactlyInstanceOf(LockingException.class).hasMessageContaining("Interrupted");
            assertThat(flagAfter).isTrue();
            assertThat(locking.inspect("c")).isEmpty();
            assertThat(locking.inspect("a").orElseThrow().ownerId()).isEqualTo("holder");
        }
    }

    @Nested
    class Outcomes {
        @Test
        void aCheckedExceptionFromTheJob_reachesTheCallerUnchanged_afterTheKeysWereReleased() {
            IOException failure = new IOException("disk full");
            assertThatThrownBy(() -> locking.execute("k", lock -> {
                throw failure;
            })).isSameAs(failure);
            assertThat(locking.inspect("k")).isEmpty();
        }

        @Test
        void anErrorFromTheJob_stillReleases() {
            assertThatThrownBy(() -> locking.execute("k", lock -> {
                throw new AssertionError("boom");
            })).isInstanceOf(AssertionError.class);
            assertThat(locking.inspect("k")).isEmpty();
        }

        @Test
        void theHandle_reportsKeysTokensAndProvider() {
            locking.execute(List.of("y", "x"), lock -> {
                assertThat(lock.providerId()).isEqualTo("lp_counted");
                assertThat(lock.keys()).containsExactly("x", "y");
                assertThat(lock.fencingToken("x")).isEqualTo(locking.inspect("x").orElseThrow().fencingToken());
                assertThatThrownBy(() -> lock.fencingToken("z")).isInstanceOf(IllegalArgumentException.class);
                assertThat(lock.isLost()).isFalse();
                lock.throwIfLost();
                return null;
            });
        }
    }

    @Nested
    class Nesting {
        @Test
        void aNestedCallOnHeldKeys_runsAtOnce_withoutTouchingTheProvider() {
            String result = locking.execute("a", outer -> {
                int before = provider.tryAcquires.get();
                String inner = locking.execute("a", lock -> {
                    assertThat(lock.fencingToken("a")).isEqualTo(outer.fencingToken("a"));
                    return "inner";
                }, ExecuteOptions.builder().timeout(Duration.ofMillis(1)).build());
                assertThat(provider.tryAcquires.get()).isEqualTo(before);
                return inner;
            });
            assertThat(result).isEqualTo("inner");
            assertThat(locking.inspect("a")).isEmpty();
        }

        @Test
        void aNestedCallOnMoreKeys_takesOnlyTheMissingOnes_andReleasesThemAtItsEnd() {
            locking.execute("a", outer -> {
                long tokenA = outer.fencingToken("a");
                locking.execute(List.of("a", "b"), inner -> {
                    assertThat(inner.keys()).containsExactly("a", "b");
                    assertThat(inner.fencingToken("a")).isEqualTo(tokenA);
                    assertThat(locking.inspect("b")).isPresent();
                    return null;
                });
                assertThat(locking.inspect("b")).isEmpty();
                assertThat(locking.inspect("a").orElseThrow().fencingToken()).isEqualTo(tokenA);
                // Three levels: the innermost asks for a key held two levels up.
                locking.execute("c", middle -> locking.execute("a", innermost -> {
                    assertThat(innermost.fencingToken("a")).isEqualTo(tokenA);
                    return null;
                }));
                return null;
            });
            assertThat(locking.inspect("a")).isEmpty();
        }

        @Test
        void anotherThread_isNotNested_andWaits() throws Exception {
            locking.execute("a", outer -> {
                CompletableFuture<Object> other = CompletableFuture.supplyAsync(() -> {
                    try {
                        return locking.execute("a", lock -> "ran", ExecuteOptions.builder()
                                .timeout(Duration.ofMillis(300)).build());
                    } catch (LockTimeoutException e) {
                        return e;
                    }
                });
                assertThat(other.get(10, TimeUnit.SECONDS)).isInstanceOf(LockTimeoutException.class);
                return null;
            });
        }
    }

    @Nested
    class Leases {
        @Test
        void aRunningJob_keepsItsLockPastTheLease_byRenewal() {
            Duration lease = Duration.ofSeconds(1);
            locking.execute("renewed", lock -> {
                await().atMost(Duration.ofSeconds(20)).until(() -> provider.extends_.get() >= 4);
                assertThat(lock.isLost()).isFalse();
                assertThatThrownBy(() -> locking.acquire("renewed")).isInstanceOf(dev.locking.api.LockAcquisitionException.class);
                return null;
            }, ExecuteOptions.builder().expire(lease).build());
            assertThat(locking.inspect("renewed")).isEmpty();
        }

        @Test
        void aLockDeletedBehindTheJobsBack_turnsTheHandleLost_interruptsTheJob_andThrows() {
            AtomicBoolean sawInterrupt = new AtomicBoolean();
            assertThatThrownBy(() -> locking.execute("lost", lock -> {
                locking.releaseAll();
                while (!lock.isLost()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                }
                // The handle reads lost just before the renewer interrupts the thread: wait for it here
                // (Awaitility cannot wait on an interrupted thread).
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!Thread.currentThread().isInterrupted() && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
                sawInterrupt.set(Thread.currentThread().isInterrupted());
                assertThatThrownBy(lock::throwIfLost).isInstanceOf(LockLostException.class);
                return "must not be returned";
            }, ExecuteOptions.builder().expire(Duration.ofMillis(600)).build()))
                    .isInstanceOf(LockLostException.class)
                    .hasMessageContaining("[lost]");
            assertThat(sawInterrupt).isTrue();
            assertThat(Thread.currentThread().isInterrupted()).as("the core clears the interrupt it sent").isFalse();
        }

        @Test
        void aJobInterruptedOutOfASleep_reportsTheLoss_withTheJobsFailureAsCause() {
            assertThatThrownBy(() -> locking.execute("slept", lock -> {
                locking.releaseAll();
                Thread.sleep(TimeUnit.SECONDS.toMillis(30)); // ends early: the renewer interrupts it
                return "must not be returned";
            }, ExecuteOptions.builder().expire(Duration.ofMillis(600)).build()))
                    .isInstanceOf(LockLostException.class)
                    .hasCauseInstanceOf(InterruptedException.class);
            assertThat(Thread.interrupted()).isFalse();
        }

        @Test
        void renewalsThatKeepFailing_loseTheHandle_onceTheLeaseHasRunOut() {
            assertThatThrownBy(() -> locking.execute("unreachable", lock -> {
                provider.failExtend = true;
                while (!lock.isLost()) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                }
                return null;
            }, ExecuteOptions.builder().expire(Duration.ofMillis(600)).build()))
                    .isInstanceOf(LockLostException.class);
            assertThat(provider.extends_.get()).isGreaterThanOrEqualTo(2);
            assertThat(Thread.interrupted()).isFalse();
        }
    }
}
