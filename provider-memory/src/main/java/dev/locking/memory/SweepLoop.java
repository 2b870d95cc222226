package dev.locking.memory;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The expiry sweeper of a {@link LockTable}: one daemon thread that, every interval, expires the lapsed
 * records of the table (which wakes their waiters) and hands on the lapsed reservations of freed keys
 * ({@link Reservations}). Lapsed records count as free at once anyway (every operation checks the lease of
 * the keys it touches); the sweep only keeps records and reservations nobody touches again from staying in
 * memory, and wakes waiters whose own wake-up is far away.
 *
 * <p>It holds the table only weakly between sweeps, so a provider dropped without {@code close()} does not
 * keep its thread (nor its table) alive for ever. It ends when the table is closed; {@code close()}
 * unparks it so that it ends at once.
 *
 * <p>Concurrency: all fields are final; the sweep itself takes the table's stripes one at a time.
 */
final class SweepLoop implements Runnable {
    private static final System.Logger LOG = System.getLogger(SweepLoop.class.getName());

    private final WeakReference<LockTable> table;
    private final String id;
    private final long intervalNanos;

    private SweepLoop(LockTable table, String id, long intervalNanos) {
        this.table = new WeakReference<>(table);
        this.id = id;
        this.intervalNanos = intervalNanos;
    }

    /** Starts the sweeper of a table as a daemon thread named after the provider. */
    static Thread start(LockTable table, String id, long intervalNanos) {
        Thread thread = new Thread(new SweepLoop(table, id, intervalNanos), "locking-" + id + "-sweeper");
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    @Override
    public void run() {
        while (true) {
            LockSupport.parkNanos(intervalNanos);
            LockTable current = table.get();
            if (current == null || current.isClosed()) {
                return;
            }
            try {
                current.sweep();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Expiry sweep of " + id + " failed; retrying in "
                        + Duration.ofNanos(intervalNanos), e);
            }
        }
    }
}
