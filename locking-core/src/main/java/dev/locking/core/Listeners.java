package dev.locking.core;

import dev.locking.api.LockingEvent;
import dev.locking.api.LockingListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link LockingListener}s of one service, and the guard around each call to them: a listener that throws
 * is logged once and otherwise ignored, so it never changes a lock operation.
 *
 * <p>The service asks {@link #active()} before it reads the clock or builds an event, so a service without
 * listeners pays one field read per operation.
 *
 * <p>Concurrency: immutable after construction apart from the once-only warning flags (atomics); called from
 * any thread, never under a monitor or a provider's lock (the service calls it between steps).
 */
final class Listeners {
    private static final Logger log = LoggerFactory.getLogger(Listeners.class);

    /** No listener. */
    static final Listeners NONE = new Listeners(List.of());

    private final LockingListener[] listeners;
    private final AtomicBoolean[] warned;

    private Listeners(List<LockingListener> listeners) {
        this.listeners = listeners.toArray(new LockingListener[0]);
        this.warned = new AtomicBoolean[this.listeners.length];
        for (int i = 0; i < warned.length; i++) {
            warned[i] = new AtomicBoolean();
        }
    }

    /**
     * The listeners given to the builder, then those found through {@link ServiceLoader} (one whose class fails
     * to load is logged and skipped, so it hides no other).
     */
    static Listeners of(List<LockingListener> registered, ClassLoader loader) {
        List<LockingListener> all = new ArrayList<>(registered);
        Iterator<LockingListener> it = ServiceLoader.load(LockingListener.class, loader).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                all.add(it.next());
            } catch (ServiceConfigurationError e) {
                log.warn("A locking listener failed to load and is skipped: {}", e.getMessage(), e);
            }
        }
        return all.isEmpty() ? NONE : new Listeners(all);
    }

    /** Whether any listener is registered; when not, callers skip the clock and the event. */
    boolean active() {
        return listeners.length > 0;
    }

    void jobStarted(LockingEvent event) {
        tell(event, LockingListener::onJobStarted);
    }

    void operation(LockingEvent event) {
        tell(event, LockingListener::onOperation);
    }

    /** Calls each listener in turn; one that throws is reported and the others still hear the event. */
    private void tell(LockingEvent event, BiConsumer<LockingListener, LockingEvent> call) {
        for (int i = 0; i < listeners.length; i++) {
            try {
                call.accept(listeners[i], event);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                failed(i, e);
            }
        }
    }

    private void failed(int i, Throwable e) {
        if (warned[i].compareAndSet(false, true)) {
            log.warn("Locking listener {} threw; the lock operation went on, and further failures of this listener"
                    + " are logged at DEBUG only", listeners[i].getClass().getName(), e);
        } else if (log.isDebugEnabled()) {
            log.debug("Locking listener {} threw again: {}", listeners[i].getClass().getName(), e.toString());
        }
    }

    /** The nanoseconds between two readings of the clock, as a duration. */
    static Duration since(long startNanos, long nowNanos) {
        return Duration.ofNanos(Math.max(0, nowNanos - startNanos));
    }
}
