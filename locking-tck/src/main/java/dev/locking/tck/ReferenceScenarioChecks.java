package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.locking.api.Lease;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.ReleaseAllOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The kit's checks of the scenarios of the reference module's own tests.
 *
 * <p>Each group is an abstract class that {@link LockingProviderConformance} runs through a {@code @Nested}
 * class of the same name, which gives the group its display name and its {@link KitFixture}.
 */
final class ReferenceScenarioChecks {

    private ReferenceScenarioChecks() {}

    abstract static class ReferenceScenarios extends KitGroup {

        ReferenceScenarios(KitFixture kit) {
            super(kit);
        }

        @Test
        void tenBuyersOfFiveItems_oversellWithoutALock() throws Exception {
            AtomicInteger stock = new AtomicInteger(5);
            CyclicBarrier allHaveLooked = new CyclicBarrier(10);
            List<Future<Boolean>> buyers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                buyers.add(async(() -> {
                    boolean inStock = stock.get() > 0;
                    allHaveLooked.await(patience().toMillis(), TimeUnit.MILLISECONDS); // everyone checks before anyone buys
                    if (inStock) {
                        stock.decrementAndGet();
                    }
                    return inStock;
                }));
            }
            int sold = 0;
            for (Future<Boolean> buyer : buyers) {
                sold += result(buyer) ? 1 : 0;
            }
            assertThat(sold).isEqualTo(10);
            assertThat(stock.get()).as("stock after an oversell").isNegative().isEqualTo(-5);
        }

        @Test
        void tenBuyersOfFiveItems_sellExactlyFiveWithExecute() throws Exception {
            String sku = key("sku-17");
            int[] stock = {5}; // guarded by the lock only
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> buyers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                buyers.add(async(() -> {
                    assertThat(go.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                    return locking.execute(sku, lock -> {
                        int left = stock[0];
                        if (left <= 0) {
                            return false;
                        }
                        pause(); // give a racing buyer every chance
                        stock[0] = left - 1;
                        return true;
                    }, patiently());
                }));
            }
            go.countDown();
            int sold = 0;
            for (Future<Boolean> buyer : buyers) {
                sold += result(buyer) ? 1 : 0;
            }
            assertThat(sold).isEqualTo(5);
            assertThat(stock[0]).isZero();
            assertFree(sku);
        }

        @Test
        void owners() {
            String a = key("prod_123");
            locking.acquire(a, owner("user_1", Duration.ofSeconds(60)));
            assertAcquireFails(() -> locking.acquire(a, owner("user_2", Duration.ofSeconds(60))), a);
            assertThat(locking.release(a, by("user_2"))).isFalse();
            assertThat(locking.acquire(a, owner("user_1", Duration.ofSeconds(60))).ownerId()).isEqualTo("user_1");
            assertThat(locking.release(a, by("user_1"))).isTrue();
            assertThat(locking.acquire(a, owner("user_2")).ownerId()).isEqualTo("user_2");
            locking.releaseAll(ReleaseAllOptions.builder().ownerId("user_2").build());
            assertFree(a);
        }

        @Test
        void parallelCallsOnDifferentKeys_runAtTheSameTime() throws Exception {
            int n = 4;
            CyclicBarrier allInside = new CyclicBarrier(n);
            List<Future<String>> calls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String k = key("parallel-" + i);
                calls.add(async(() -> locking.execute(k, lock -> {
                    allInside.await(patience().toMillis(), TimeUnit.MILLISECONDS); // fails unless all run at once
                    return k;
                }, patiently())));
            }
            for (int i = 0; i < n; i++) {
                assertThat(result(calls.get(i))).isEqualTo(key("parallel-" + i));
                assertFree(key("parallel-" + i));
            }
        }

        @Test
        void anonymousLocks() {
            String a = key("anonymous");
            Lease lease = locking.acquire(a);
            assertThat(lease.ownerId()).isNull();
            assertAcquireFails(() -> locking.acquire(a), a);
            assertAcquireFails(() -> locking.acquire(a, owner("user_1")), a);
            assertThat(locking.release(a)).isTrue();
            assertThat(locking.acquire(a).fencingTokens().get(a)).isGreaterThan(lease.fencingTokens().get(a));
            assertThat(locking.release(a, by("user_1"))).isTrue();
        }

        @Test
        void releaseAfterAFailingJob() {
            String a = key("failing");
            assertThatThrownBy(() -> locking.execute(a, lock -> {
                throw new IllegalStateException("job failed");
            })).isInstanceOf(IllegalStateException.class).hasMessage("job failed");
            assertFree(a);
            long start = System.nanoTime();
            String next = locking.execute(a, lock -> "next", waitUpTo(Duration.ofSeconds(1)));
            assertThat(next).isEqualTo("next");
            assertThat(since(start)).isLessThan(Duration.ofSeconds(1));
            locking.acquire(a);
        }

        @Test
        void threeCallsOnOneKey_theMiddleOneTimesOut() throws Exception {
            String a = key("three");
            List<String> ran = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch firstInside = new CountDownLatch(1);
            CountDownLatch releaseFirst = new CountDownLatch(1);
            Future<Outcome> first = async(() -> capture(() -> locking.execute(a, lock -> {
                firstInside.countDown();
                ran.add("first");
                return releaseFirst.await(patience().toMillis(), TimeUnit.MILLISECONDS);
            }, waitUpTo(Duration.ofSeconds(1)))));
            assertThat(firstInside.await(patience().toMillis(), TimeUnit.MILLISECONDS)).isTrue();

            long secondStart = System.nanoTime();
            Future<Outcome> second = async(() -> capture(() -> locking.execute(a, lock -> ran.add("second"),
                    waitUpTo(Duration.ofSeconds(1)))));
            Future<Outcome> third = async(() -> capture(() -> locking.execute(a, lock -> ran.add("third"),
                    waitUpTo(Duration.ofSeconds(2).plus(patience())))));

            // The first call holds the key until the second has timed out, however slow the machine is.
            Outcome secondOutcome = result(second);
            assertThat(secondOutcome.failure()).isInstanceOf(LockTimeoutException.class);
            assertThat(since(secondStart)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
            releaseFirst.countDown();

            assertThat(result(first).value()).isEqualTo(true);
            assertThat(result(third).value()).isEqualTo(true);
            assertThat(ran).containsExactly("first", "third");
            assertFree(a);
        }
    }
}
