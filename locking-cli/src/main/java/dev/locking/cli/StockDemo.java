package dev.locking.cli;

import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ten buyers try to buy one of five items at the same moment. Each checks the stock, pays, then takes
 * the item. Without a lock every buyer checks before anyone takes (the run makes that interleaving
 * certain with a barrier, so the report is the same every time), and the stock goes negative. With
 * {@code execute} checking and taking are one step per buyer: exactly five buy and the stock ends at zero.
 *
 * <p>Concurrency: each run's buyers are threads of their own; they share the stock and the tallies, which
 * are atomic counters of that run, and the service, which is thread-safe. The stock's check-then-take is on
 * purpose guarded by nothing but the lock, so the unlocked run oversells.
 */
final class StockDemo {
    static final int BUYERS = 10;
    static final int ITEMS = 5;

    /** What one run of the shop came to. */
    record Outcome(int sold, int turnedAway, int stockLeft) {
        int oversold() {
            return Math.max(0, -stockLeft);
        }
    }

    private final LockingService locking;
    private final String providerId;
    private final Duration payment;

    StockDemo(LockingService locking, String providerId, Duration payment) {
        this.locking = locking;
        this.providerId = providerId;
        this.payment = payment;
    }

    Outcome withoutLock() throws InterruptedException {
        return run(false);
    }

    Outcome withExecute() throws InterruptedException {
        return run(true);
    }

    private Outcome run(boolean locked) throws InterruptedException {
        AtomicInteger stock = new AtomicInteger(ITEMS);
        AtomicInteger sold = new AtomicInteger();
        AtomicInteger turnedAway = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        CyclicBarrier everyoneChecked = new CyclicBarrier(BUYERS);
        String key = "stock:sku-" + System.nanoTime();
        ExecuteOptions options = ExecuteOptions.builder().provider(providerId).timeout(Duration.ofSeconds(30)).build();
        ExecutorService pool = Executors.newFixedThreadPool(BUYERS);
        try {
            List<Future<?>> buyers = new ArrayList<>();
            for (int i = 0; i < BUYERS; i++) {
                buyers.add(pool.submit(() -> {
                    start.await();
                    Runnable buy = () -> buyOne(stock, sold, turnedAway, locked ? this::pay : () -> await(everyoneChecked));
                    if (locked) {
                        locking.execute(key, lock -> {
                            buy.run();
                            return Boolean.TRUE;
                        }, options);
                    } else {
                        buy.run();
                    }
                    return Boolean.TRUE;
                }));
            }
            start.countDown();
            for (Future<?> buyer : buyers) {
                try {
                    buyer.get(1, TimeUnit.MINUTES);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof LockingException failure) {
                        throw failure;
                    }
                    throw new IllegalStateException("A buyer failed: " + e.getCause(), e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new IllegalStateException("A buyer did not finish within a minute", e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return new Outcome(sold.get(), turnedAway.get(), stock.get());
    }

    private static void buyOne(AtomicInteger stock, AtomicInteger sold, AtomicInteger turnedAway, Runnable between) {
        if (stock.get() <= 0) {
            turnedAway.incrementAndGet();
            return;
        }
        between.run();
        stock.decrementAndGet();
        sold.incrementAndGet();
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while paying", e);
        } catch (BrokenBarrierException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("the buyers did not all arrive", e);
        }
    }

    /** The moment between checking the stock and taking the item. */
    private void pay() {
        try {
            Thread.sleep(payment.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while paying", e);
        }
    }
}
