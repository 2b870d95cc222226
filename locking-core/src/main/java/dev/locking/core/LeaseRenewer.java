package dev.locking.core;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the leases of running {@code execute} calls every third of their lease, on one daemon thread
 * shared by the whole service (no thread or timer task per call).
 *
 * <p>Concurrency: registering is a set insertion plus a volatile read, so an uncontended {@code execute}
 * pays almost nothing. The renewer thread parks until the earliest due renewal (or an idle horizon) and
 * publishes that wake-up time in {@link #nextWakeNanos}. A registration that is due earlier than the
 * published time unparks it. While the thread scans, {@code nextWakeNanos} is {@link Long#MAX_VALUE}, so
 * a registration racing with a scan always unparks it, and the
 * park that follows returns at once (the permit is kept) to scan again. A registration published
 * before the scan began is seen by the scan, as the set's iterator guarantees.
 *
 * <p>Renewals run one after another on this thread; each provider call is bounded by the provider's own
 * timeout. A renewal that fails (backend unreachable) is retried every half period until the lease has run
 * out since the last confirmed renewal; then the handle turns lost. A renewal that finds the lock gone
 * turns the handle lost at once.
 */
final class LeaseRenewer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LeaseRenewer.class);

    /** How long the thread parks when nothing is due sooner; registrations due later need no wake-up. */
    private static final long IDLE_HORIZON_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final Set<Execution> active = ConcurrentHashMap.newKeySet();
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
        if (execution.dueNanos - nextWakeNanos < 0) {
            Thread t = thread;
            if (t == null) {
                start();
            } else {
                LockSupport.unpark(t);
            }
        }
    }

    void unregister(Execution execution) {
        active.remove(execution);
    }

    private void start() {
        synchronized (startLock) {
            Thread t = thread;
            if (t == null && !closed) {
                t = new Thread(this::run, "locking-lease-renewer");
                t.setDaemon(true);
                thread = t;
                t.start();
            } else if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    private void run() {
        while (!closed) {
            nextWakeNanos = Long.MAX_VALUE;
            long now = clock.nanoTime();
            long next = now + IDLE_HORIZON_NANOS;
            for (Execution execution : active) {
                if (execution.dueNanos - now <= 0) {
                    renew(execution, now);
                }
                if (execution.dueNanos - next < 0) {
                    next = execution.dueNanos;
                }
            }
            nextWakeNanos = next;
            long wait = next - clock.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(this, wait);
            }
        }
    }

    private void renew(Execution execution, long now) {
        boolean held;
        try {
            held = execution.provider.extend(execution.takenKeys, execution.ownerId, execution.lease);
        } catch (RuntimeException e) {
            if (now - execution.confirmedNanos >= execution.lease.toNanos()) {
                if (execution.markLost()) {
                    log.warn("Lease on {} (provider {}) could not be renewed for a whole lease of {}; the job's"
                            + " handle is now lost", execution.takenKeys, execution.providerId(), execution.lease, e);
                }
                active.remove(execution);
            } else {
                log.warn("Renewing the lease on {} (provider {}) failed; retrying: {}",
                        execution.takenKeys, execution.providerId(), e.toString());
                execution.dueNanos = now + Math.max(1, execution.periodNanos / 2);
            }
            return;
        }
        if (held) {
            execution.confirmedNanos = now;
            execution.dueNanos = now + execution.periodNanos;
            if (log.isDebugEnabled()) {
                log.debug("Renewed the lease on {} (provider {}) for {}", execution.takenKeys,
                        execution.providerId(), execution.lease);
            }
        } else {
            if (execution.markLost()) {
                log.warn("Lease on {} (provider {}) was lost: the lock is gone or held by someone else; the job's"
                        + " thread is interrupted", execution.takenKeys, execution.providerId());
            }
            active.remove(execution);
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
    }
}
