package dev.locking.spi.support;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Bounds synchronous calls of one {@link BackendCalls}: a thread still waiting for an answer when its
 * deadline has passed is interrupted, which ends a blocking client's wait; the caller then reports that no
 * answer came. A synchronous call costs no thread hop where an asynchronous one costs a hand-over; this keeps
 * the bound that waiting on a future with a timeout would give.
 *
 * <p>Concurrency: calls in flight sit in a concurrent set. Each {@link Call} moves once from {@code RUNNING}
 * to {@code DONE} (its own thread, when the call returns) or to {@code INTERRUPTING} and then
 * {@code INTERRUPTED} (the watcher thread, around {@link Thread#interrupt()}); both sides use
 * compare-and-set, so exactly one wins. A caller that lost waits for {@code INTERRUPTED} and clears the
 * interrupt, so no interrupt of ours outlives the call. The watcher is one daemon thread, started on first
 * use under {@code startLock}; it looks every {@link #PERIOD_NANOS} while calls were made recently and parks
 * without a timeout otherwise ({@link #begin} unparks it).
 */
final class CallDeadlines implements AutoCloseable {

    /** How often the watcher looks at the calls in flight: a late answer is cut off this much late at most. */
    static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** Idle looks (no call in flight) after which the watcher parks until the next call. */
    private static final int IDLE_LOOKS = 50;

    private static final int RUNNING = 0;
    private static final int DONE = 1;
    private static final int INTERRUPTING = 2;
    private static final int INTERRUPTED = 3;

    private final String name;
    private final Set<Call> inFlight = ConcurrentHashMap.newKeySet();
    private final Object startLock = new Object();

    @GuardedBy("startLock")
    private @Nullable Thread started;

    private volatile @Nullable Thread watcher;
    private volatile boolean parked;
    private volatile boolean closed;

    /** One synchronous call in flight. */
    static final class Call {
        private final Thread thread = Thread.currentThread();
        private final long deadline;
        private final AtomicInteger state = new AtomicInteger(RUNNING);

        private Call(long deadline) {
            this.deadline = deadline;
        }
    }

    /** @param name names the watcher thread */
    CallDeadlines(String name) {
        this.name = name;
    }

    /** Registers a call of the current thread that must end by {@code deadline} ({@link System#nanoTime()}). */
    Call begin(long deadline) {
        Call call = new Call(deadline);
        inFlight.add(call);
        Thread w = watcher;
        if (w == null) {
            startWatcher();
        } else if (parked) {
            LockSupport.unpark(w);
        }
        return call;
    }

    /**
     * Ends a call; call it in a {@code finally} on the thread that began it.
     *
     * @return whether the deadline cut the call off (the interrupt that did it is cleared)
     */
    boolean end(Call call) {
        inFlight.remove(call);
        if (call.state.compareAndSet(RUNNING, DONE)) {
            return false;
        }
        while (call.state.get() != INTERRUPTED) {
            Thread.onSpinWait();
        }
        Thread.interrupted();
        return true;
    }

    @Override
    public void close() {
        closed = true;
        Thread w = watcher;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    private void startWatcher() {
        synchronized (startLock) {
            if (started != null || closed) {
                return;
            }
            Thread w = new Thread(this::watch, name);
            w.setDaemon(true);
            started = w;
            watcher = w;
            w.start();
        }
    }

    private void watch() {
        int idle = 0;
        while (!closed) {
            if (idle >= IDLE_LOOKS) {
                parked = true;
                if (inFlight.isEmpty() && !closed) {
                    LockSupport.park(this);
                }
                parked = false;
                idle = 0;
            } else {
                LockSupport.parkNanos(this, PERIOD_NANOS);
            }
            idle = inFlight.isEmpty() ? idle + 1 : 0;
            long now = System.nanoTime();
            for (Call call : inFlight) {
                if (now - call.deadline >= 0 && call.state.compareAndSet(RUNNING, INTERRUPTING)) {
                    call.thread.interrupt();
                    call.state.set(INTERRUPTED);
                }
            }
        }
    }
}
