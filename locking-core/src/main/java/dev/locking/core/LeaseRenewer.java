package dev.locking.core;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.LockingClock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the leases of running {@code execute} calls every third of their lease, turns a handle lost the
 * moment its lease has run out without a confirmed renewal, and releases in the background the locks a
 * failed call may have left behind.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>One scheduler thread per service ({@code locking-lease-scheduler}) never calls a provider. It hands
 *       due renewals to the provider's workers and marks a handle lost at its deadline, so no provider call,
 *       however long it hangs, delays a loss.</li>
 *   <li>Worker threads per provider ({@code locking-renewal-<id>-<n>}, at most {@value #WORKERS_PER_PROVIDER}
 *       at once, started on demand and gone after {@value #WORKER_KEEP_ALIVE_SECONDS} s idle) make the
 *       {@code extend} and background {@code release} calls of that provider only: a provider whose calls
 *       hang holds up its own workers, never another provider's.</li>
 * </ul>
 *
 * <h2>Deadlines</h2>
 * A handle's deadline is the time its last confirmed renewal was <em>sent</em> (for the first one, the time
 * the acquire that took the keys was sent) plus the lease (for the first one, the possibly shorter lease of
 * a key handed over by a backend's queue, renewed at a third of it; see {@link Execution}): the backend
 * cannot have extended the lease from an earlier moment, so from then on another client may hold the keys. At the deadline the scheduler marks
 * the handle lost and interrupts the renewal call still running, if any (a client that answers interrupts
 * gives up then; one that does not keeps its worker until it returns). An answer that arrives at or after
 * the deadline confirms nothing. A renewal that fails is retried soon (from a thirtieth of the lease, at
 * least 20 ms and at most 500 ms, doubling up to a sixth of the lease); a renewal that finds the lock gone
 * turns the handle lost at once.
 *
 * <h2>Concurrency</h2>
 * Registering is a set insertion plus a volatile read, so an uncontended {@code execute} pays almost nothing.
 * The scheduler parks until the earliest due renewal or deadline (or an idle horizon) and publishes that
 * wake-up time in {@link #nextWakeNanos}; whoever makes something due earlier (a registration, a failed
 * renewal's retry) unparks it. While the scheduler scans, {@code nextWakeNanos} is {@link Long#MAX_VALUE},
 * so a change racing with a scan always unparks it, and the park that follows returns at once to scan
 * again. Each {@link Execution} has at most one renewal in flight: the scheduler sets
 * {@link Execution#renewing} before it submits one and the worker clears it when done, after writing the
 * execution's due and confirmed times (only that worker writes them while the flag is set). A
 * {@link BackgroundRelease} has its own flag, {@code running}, used the same way. The scheduler thread is
 * started under {@code startLock}, which only serialises starting it; the field that holds it is volatile and
 * read without the lock, so it carries no {@code @GuardedBy}.
 */
final class LeaseRenewer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaseRenewer.class);

    /** How long the scheduler parks when nothing is due sooner; work due later needs no wake-up. */
    private static final long IDLE_HORIZON_NANOS = TimeUnit.SECONDS.toNanos(2);
    static final int WORKERS_PER_PROVIDER = 4;
    static final int WORKER_KEEP_ALIVE_SECONDS = 60;
    private static final long MIN_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final long MAX_FIRST_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final Set<Execution> active = ConcurrentHashMap.newKeySet();
    private final Set<BackgroundRelease> releases = ConcurrentHashMap.newKeySet();
    private final Map<String, ThreadPoolExecutor> workers = new ConcurrentHashMap<>();
    private final LockingClock clock;
    private final Object startLock = new Object();
    private volatile long nextWakeNanos = Long.MAX_VALUE;
    private volatile @Nullable Thread thread;
    private volatile boolean closed;

    LeaseRenewer(LockingClock clock) {
        this.clock = clock;
    }

    void register(Execution execution) {
        active.add(execution);
        wakeBy(execution.dueNanos);
    }

    void unregister(Execution execution) {
        active.remove(execution);
    }

    /** The {@code execute} calls whose job runs now, for {@code close()}. */
    List<Execution> running() {
        return List.copyOf(active);
    }

    /**
     * Releases {@code keys} held by {@code ownerId} in the background, retrying with backoff until the
     * backend answers or until {@code giveUpNanos}, when the lease has lapsed anyway. Runs on the provider's
     * own workers; never blocks the caller.
     *
     * @param untilReleased keep trying after an answer of "nothing to release" too (for an acquire whose
     *                      request may still reach the backend after the release does)
     */
    void releaseInBackground(LockingProvider provider, List<String> keys, String ownerId, long giveUpNanos,
            boolean untilReleased, String why) {
        if (closed) {
            return;
        }
        BackgroundRelease release = new BackgroundRelease(provider, keys, ownerId, giveUpNanos, untilReleased,
                why, clock.nanoTime());
        releases.add(release);
        wakeBy(release.dueNanos);
    }

    /** Unparks the scheduler (starting it first if needed) when {@code dueNanos} is before its wake-up time. */
    private void wakeBy(long dueNanos) {
        long wake = nextWakeNanos;
        if (wake == Long.MAX_VALUE || dueNanos - wake < 0) {
            Thread t = thread;
            if (t == null) {
                start();
            } else {
                LockSupport.unpark(t);
            }
        }
    }

    private void start() {
        synchronized (startLock) {
            Thread t = thread;
            if (t == null && !closed) {
                t = new Thread(this::run, "locking-lease-scheduler");
                t.setDaemon(true);
                thread = t;
                t.start();
            } else if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    // ------------------------------------------------------------------ the scheduler thread

    private void run() {
        while (!closed) {
            nextWakeNanos = Long.MAX_VALUE;
            long now = clock.nanoTime();
            long next = now + IDLE_HORIZON_NANOS;
            for (Execution execution : active) {
                next = earliest(next, schedule(execution, now));
            }
            for (BackgroundRelease release : releases) {
                next = earliest(next, schedule(release, now));
            }
            nextWakeNanos = next;
            long wait = next - clock.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
            }
        }
    }

    /** The earlier of two times; {@link Long#MAX_VALUE} stands for "never" (nanoTime may be negative). */
    private static long earliest(long a, long b) {
        if (b == Long.MAX_VALUE) {
            return a;
        }
        return a == Long.MAX_VALUE || b - a < 0 ? b : a;
    }

    /** Marks the execution lost at its deadline or submits its due renewal; returns when to look again. */
    private long schedule(Execution execution, long now) {
        long deadline = execution.deadlineNanos();
        if (deadline - now <= 0) {
            loseAtDeadline(execution, now);
            return Long.MAX_VALUE;
        }
        if (!execution.renewing && execution.dueNanos - now <= 0) {
            execution.renewing = true;
            Future<?> renewal = submit(execution.provider, () -> renew(execution));
            if (renewal == null) {
                execution.renewing = false;
                return Long.MAX_VALUE;
            }
            execution.renewal = renewal;
        }
        return execution.renewing ? deadline : earliest(deadline, execution.dueNanos);
    }

    private void loseAtDeadline(Execution execution, long now) {
        active.remove(execution);
        Future<?> running = execution.renewing ? execution.renewal : null;
        if (execution.markLost()) {
            long sinceConfirmed = now - execution.confirmedNanos;
            log.warn("Lease on {} (provider {}) was not confirmed for a whole lease of {} ({} ms since the last"
                    + " confirmed renewal was sent{}); the job's handle is now lost and its thread interrupted",
                    execution.takenKeys, execution.providerId(), execution.confirmedLease(),
                    TimeUnit.NANOSECONDS.toMillis(sinceConfirmed),
                    running == null ? "" : "; a renewal call is still running");
        }
        if (running != null) {
            // The call's answer no longer matters; a client that honours interrupts frees its worker now.
            running.cancel(true);
        }
    }

    private long schedule(BackgroundRelease release, long now) {
        if (release.running) {
            return Long.MAX_VALUE;
        }
        if (release.dueNanos - now > 0) {
            return release.dueNanos;
        }
        release.running = true;
        if (submit(release.provider, () -> attempt(release)) == null) {
            releases.remove(release);
        }
        return Long.MAX_VALUE;
    }

    private @Nullable Future<?> submit(LockingProvider provider, Runnable task) {
        try {
            return workers(provider).submit(task);
        } catch (RejectedExecutionException e) {
            return null; // closing
        }
    }

    private ThreadPoolExecutor workers(LockingProvider provider) {
        return workers.computeIfAbsent(provider.id(), id -> {
            AtomicInteger count = new AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(WORKERS_PER_PROVIDER, WORKERS_PER_PROVIDER,
                    WORKER_KEEP_ALIVE_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                        Thread t = new Thread(r, "locking-renewal-" + id + "-" + count.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            pool.allowCoreThreadTimeOut(true);
            if (closed) {
                pool.shutdown();
            }
            return pool;
        });
    }

    // ------------------------------------------------------------------ the provider's workers

    private void renew(Execution execution) {
        try {
            if (execution.isLost() || !active.contains(execution)) {
                return;
            }
            long sent = clock.nanoTime();
            boolean held;
            try {
                held = execution.provider.extend(execution.takenKeys, execution.ownerId, execution.lease);
            } catch (RuntimeException e) {
                long now = clock.nanoTime();
                execution.failures++;
                execution.dueNanos = now + retryDelay(execution);
                if (!execution.isLost() && active.contains(execution) && execution.failures == 1) {
                    // Once per run of failures: the retries that follow log at DEBUG, the loss at WARN.
                    log.warn("Renewing the lease on {} (provider {}) failed; retrying in {} ms, lost {} ms from now"
                            + " unless confirmed: {}", execution.takenKeys, execution.providerId(),
                            TimeUnit.NANOSECONDS.toMillis(execution.dueNanos - now),
                            Math.max(0, TimeUnit.NANOSECONDS.toMillis(execution.deadlineNanos() - now)), e.toString());
                } else if (log.isDebugEnabled()) {
                    log.debug("Renewing the lease on {} (provider {}) failed again ({} in a row): {}",
                            execution.takenKeys, execution.providerId(), execution.failures, e.toString());
                }
                return;
            }
            long answered = clock.nanoTime();
            if (!held) {
                active.remove(execution);
                if (execution.markLost()) {
                    log.warn("Lease on {} (provider {}) was lost: the lock is gone or held by someone else; the"
                            + " job's thread is interrupted", execution.takenKeys, execution.providerId());
                }
            } else if (answered - execution.deadlineNanos() >= 0) {
                // Too late to count: the lease may have lapsed before the backend extended it. The scheduler
                // marks the handle lost (if it has not yet); nothing here may undo that.
                log.debug("A renewal of {} (provider {}) answered after the lease had run out; not counted",
                        execution.takenKeys, execution.providerId());
            } else {
                execution.confirmed(sent);
                if (log.isDebugEnabled()) {
                    log.debug("Renewed the lease on {} (provider {}) for {}", execution.takenKeys,
                            execution.providerId(), execution.lease);
                }
            }
        } finally {
            execution.renewing = false;
            wakeBy(execution.dueNanos);
        }
    }

    /** Soon after a failure, then backing off, but never as late as a whole period. */
    private static long retryDelay(Execution execution) {
        long lease = execution.confirmedLease().toNanos();
        long first = Math.min(MAX_FIRST_RETRY_NANOS, Math.max(MIN_RETRY_NANOS, lease / 30));
        long delay = first << Math.min(10, execution.failures - 1);
        return Math.max(first, Math.min(delay, execution.periodNanos() / 2));
    }

    private void attempt(BackgroundRelease release) {
        boolean again = false;
        try {
            @Nullable Boolean released = null; // null: no answer
            try {
                released = release.provider.release(release.keys, release.ownerId);
            } catch (ProviderUnavailableException e) {
                log.debug("Releasing {} on {} in the background: no answer yet: {}", release.keys,
                        release.provider.id(), e.toString());
            } catch (LockingException | IllegalArgumentException | IllegalStateException e) {
                // The provider refused (or was closed): trying again changes nothing.
                log.warn("Releasing {} on {} in the background failed; the locks lapse when their lease ends: {}",
                        release.keys, release.provider.id(), e.toString());
                return;
            } catch (RuntimeException e) {
                log.debug("Releasing {} on {} in the background: no answer yet: {}", release.keys,
                        release.provider.id(), e.toString());
            }
            if (Boolean.TRUE.equals(released)) {
                log.info("Released {} on {} in the background ({})", release.keys, release.provider.id(),
                        release.why);
                return;
            }
            if (released != null && !release.untilReleased) {
                return; // the backend answered: nothing of this owner is left
            }
            long now = clock.nanoTime();
            if (now - release.giveUpNanos >= 0) {
                if (released == null) {
                    log.warn("Gave up releasing {} on {} in the background ({}): the backend did not answer"
                            + " within the lease, so the locks have lapsed", release.keys, release.provider.id(),
                            release.why);
                }
                return;
            }
            release.dueNanos = now + release.nextBackoff();
            again = true;
        } finally {
            if (!again) {
                releases.remove(release);
            }
            release.running = false;
            if (again) {
                wakeBy(release.dueNanos);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
        active.clear();
        releases.clear();
        workers.values().forEach(ThreadPoolExecutor::shutdownNow);
    }
}
