package dev.locking.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Runs a step on some threads for a warm-up and then a measured window, and bounds the whole in time: a
 * step still blocked when the window ends gets a grace period, then an interrupt, then is abandoned (its
 * thread is a daemon) and counted as stuck. So a peer that deadlocks costs one window, never a hang.
 *
 * <p>An operation counts when it ends inside the measured window; its latency is what the step returns.
 *
 * <p>Concurrency: the coordinating thread starts the workers and publishes the measured window through
 * volatile fields; workers record into their own per-thread results, which the coordinator reads after
 * joining them; the stop flag and the first error are atomic.
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

    /**
     * What a run measured.
     *
     * @param threadOps the operations of each thread inside the window (for fairness)
     */
    record Measurement(long ops, double seconds, Histogram histogram, long errors, @Nullable String firstError,
            int stuckThreads, long warmupOps, double warmupSeconds, List<Long> threadOps) {
        double opsPerSecond() {
            return seconds <= 0 ? 0 : ops / seconds;
        }
    }

    /**
     * How long a run lasts. The warm-up lasts at least {@code warmup} and until the threads together did
     * {@code warmupOps} operations (so the JIT of this JVM and of the servers has seen the code path; a slow
     * contender would get far fewer iterations than a fast one from time alone), but never longer than
     * {@code maxWarmup}.
     */
    record Timing(Duration warmup, Duration measure, Duration grace, long warmupOps, Duration maxWarmup) {
        Timing(Duration warmup, Duration measure, Duration grace) {
            this(warmup, measure, grace, 0, warmup);
        }
    }

    static Measurement run(String label, int threads, Timing timing, Step step) {
        long[] ops = new long[threads];
        long[] errors = new long[threads];
        Histogram[] histograms = new Histogram[threads];
        AtomicReference<@Nullable String> firstError = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        LongAdder warmupOps = new LongAdder();
        Window window = new Window();
        Thread[] workers = new Thread[threads];
        AtomicBoolean stop = new AtomicBoolean();
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
                for (long i = 0; !stop.get(); i++) {
                    long deadline = window.deadline;
                    if (System.nanoTime() >= deadline) {
                        break;
                    }
                    try {
                        long latency = step.run(thread, i, deadline == Long.MAX_VALUE ? window.maxGiveUp
                                : deadline + timing.grace().toNanos());
                        long end = System.nanoTime();
                        long from = window.from;
                        if (end >= from && end <= window.deadline) {
                            histogram.recordValue(Math.max(0, latency));
                            ops[thread]++;
                        } else if (end < from) {
                            warmupOps.increment();
                        }
                    } catch (InterruptedException e) {
                        break;
                    } catch (Exception | AssertionError e) {
                        if (stop.get() || Thread.currentThread().isInterrupted()) {
                            break;
                        }
                        if (System.nanoTime() <= window.deadline && System.nanoTime() >= window.from) {
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
            window.maxGiveUp = start + timing.maxWarmup().toNanos() + timing.measure().toNanos()
                    + timing.grace().toNanos();
            go.countDown();
            long minEnd = start + timing.warmup().toNanos();
            long maxEnd = start + Math.max(timing.warmup().toNanos(), timing.maxWarmup().toNanos());
            while (true) {
                long now = System.nanoTime();
                if (now >= maxEnd || (now >= minEnd && warmupOps.sum() >= timing.warmupOps())) {
                    break;
                }
                TimeUnit.MILLISECONDS.sleep(Math.max(1, Math.min(20, TimeUnit.NANOSECONDS.toMillis(
                        (now < minEnd ? minEnd : maxEnd) - now))));
            }
            long from = System.nanoTime();
            window.from = from;
            window.deadline = from + timing.measure().toNanos();
            long graceEnd = window.deadline + timing.grace().toNanos();
            for (Thread worker : workers) {
                worker.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(graceEnd - System.nanoTime())));
            }
            stop.set(true);
            for (Thread worker : workers) {
                if (worker.isAlive()) {
                    worker.interrupt();
                }
            }
            int stuck = 0;
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
            return new Measurement(total, timing.measure().toNanos() / 1e9, all, failed, firstError.get(), stuck,
                    warmupOps.sum(), (from - start) / 1e9, Arrays.stream(ops).boxed().toList());
        } catch (InterruptedException e) {
            stop.set(true);
            for (Thread worker : workers) {
                worker.interrupt();
            }
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + label, e);
        }
    }

    /** The measured window, set by the coordinating thread once the warm-up is over. */
    private static final class Window {
        volatile long from = Long.MAX_VALUE;
        volatile long deadline = Long.MAX_VALUE;
        /** What a waiting peer gives up at while the window is not known yet. */
        volatile long maxGiveUp = Long.MAX_VALUE;
    }
}
