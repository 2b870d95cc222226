package dev.locking.bench;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Runs a step on some threads for a warm-up and then a measured window, and bounds the whole in time: a
 * step still blocked when the window ends gets a grace period, then an interrupt, then is abandoned (its
 * thread is a daemon) and counted as stuck. So a peer that deadlocks costs one window, never a hang.
 *
 * <p>An operation counts when it ends inside the measured window; its latency is what the step returns.
 */
final class Runner {
    private Runner() {}

    /** One operation of a worker; returns the latency to record, in nanoseconds. */
    @FunctionalInterface
    interface Step {
        /**
         * Runs one operation.
         *
         * @param giveUpNanos when a waiting peer should give up: the window's end plus the grace
         */
        long run(int thread, long iteration, long giveUpNanos) throws Exception;
    }

    /** What a run measured. */
    record Measurement(long ops, double seconds, Histogram histogram, long errors, @Nullable String firstError,
            int stuckThreads) {
        double opsPerSecond() {
            return seconds <= 0 ? 0 : ops / seconds;
        }
    }

    /** How long a run lasts. */
    record Timing(Duration warmup, Duration measure, Duration grace) {}

    static Measurement run(String label, int threads, Timing timing, Step step) {
        long[] ops = new long[threads];
        long[] errors = new long[threads];
        Histogram[] histograms = new Histogram[threads];
        AtomicReference<@Nullable String> firstError = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        long[] window = new long[2];
        Thread[] workers = new Thread[threads];
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            histograms[t] = new Histogram(3);
            workers[t] = new Thread(() -> {
                Histogram histogram = histograms[thread];
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                long measureFrom = window[0];
                long deadline = window[1];
                long giveUp = deadline + timing.grace().toNanos();
                for (long i = 0; !stop.get(); i++) {
                    if (System.nanoTime() >= deadline) {
                        break;
                    }
                    try {
                        long latency = step.run(thread, i, giveUp);
                        long end = System.nanoTime();
                        if (end >= measureFrom && end <= deadline) {
                            histogram.recordValue(Math.max(0, latency));
                            ops[thread]++;
                        }
                    } catch (InterruptedException e) {
                        break;
                    } catch (Exception | AssertionError e) {
                        if (stop.get() || Thread.currentThread().isInterrupted()) {
                            break;
                        }
                        if (System.nanoTime() <= deadline) {
                            errors[thread]++;
                            firstError.compareAndSet(null, e.toString());
                        }
                    }
                }
            }, label + "-" + t);
            workers[t].setDaemon(true);
            workers[t].start();
        }
        try {
            ready.await();
            long start = System.nanoTime();
            window[0] = start + timing.warmup().toNanos();
            window[1] = window[0] + timing.measure().toNanos();
            go.countDown();
            long end = window[1];
            int stuck = 0;
            long graceEnd = end + timing.grace().toNanos();
            for (Thread worker : workers) {
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(graceEnd - System.nanoTime())));
            }
            stop.set(true);
            for (Thread worker : workers) {
                if (worker.isAlive()) {
                    worker.interrupt();
                }
            }
            long interruptEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            for (Thread worker : workers) {
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(interruptEnd - System.nanoTime())));
                if (worker.isAlive()) {
                    stuck++;
                }
            }
            Histogram all = new Histogram(3);
            long total = 0;
            long failed = 0;
            for (int t = 0; t < threads; t++) {
                all.add(histograms[t]);
                total += ops[t];
                failed += errors[t];
            }
            return new Measurement(total, timing.measure().toNanos() / 1e9, all, failed, firstError.get(), stuck);
        } catch (InterruptedException e) {
            stop.set(true);
            for (Thread worker : workers) {
                worker.interrupt();
            }
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + label, e);
        }
    }
}
