package dev.locking.postgres;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider's one {@code LISTEN} connection, outside the pool, on a daemon thread of its own: it hands every
 * payload on its channels (the table's, and the provider's own for grants) to the provider, and when the connection
 * drops (a restart, a {@code pg_terminate_backend}, a network failure) it connects again, backing off up to two
 * seconds, and tells the provider, whose waiters then look at the table again (a notification sent meanwhile is
 * lost). A silent connection is checked with a query every {@link #PING_NANOS}. Once a minute the thread also runs
 * the provider's sweep of lapsed rows on that connection (not the pool's, which may be busy).
 *
 * <p>Concurrency: {@link #start} and {@link #close} may be called by any thread. The thread is made once under
 * {@code lock}, which also guards {@code closed}; callers wait for the first {@code LISTEN} on a latch; the
 * listening flag and the start deadline are volatile.
 */
final class NotifyListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NotifyListener.class);
    private static final long PING_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int POLL_MILLIS = 500;
    /** How often the listener thread runs the provider's sweep of lapsed rows. */
    private static final long SWEEP_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** Where the listener's connection comes from. */
    @FunctionalInterface
    interface ConnectionSource {
        Connection get() throws SQLException;
    }

    /** Work the listener thread does now and then on its connection; it handles its own failures. */
    @FunctionalInterface
    interface Chore {
        void run(Connection c);
    }

    private final String providerId;
    private final List<String> channels;
    private final ConnectionSource source;
    private final Consumer<String> onPayload;
    private final Runnable onReconnect;
    private final Chore sweep;
    private final long startWaitNanos;
    private final Object lock = new Object();

    @GuardedBy("lock")
    private @Nullable Thread thread;

    @GuardedBy("lock")
    private boolean closed;

    private volatile boolean listening;
    private volatile long startDeadline = System.nanoTime();
    private final CountDownLatch firstListen = new CountDownLatch(1);

    NotifyListener(String providerId, List<String> channels, ConnectionSource source, Consumer<String> onPayload,
            Runnable onReconnect, Chore sweep, long startWaitNanos) {
        this.providerId = providerId;
        this.channels = List.copyOf(channels);
        this.source = source;
        this.onPayload = onPayload;
        this.onReconnect = onReconnect;
        this.sweep = sweep;
        this.startWaitNanos = startWaitNanos;
    }

    /**
     * Starts listening if not yet. Every caller waits until the first {@code LISTEN} is in place (at most the
     * connect timeout after the thread started), so that a notification sent right after its next statement
     * reaches it; once that time has passed, nobody waits here again.
     */
    void start() {
        if (listening) {
            return;
        }
        synchronized (lock) {
            if (thread == null && !closed) {
                Thread t = new Thread(this::run, "locking-listen-" + providerId);
                t.setDaemon(true);
                thread = t;
                startDeadline = System.nanoTime() + startWaitNanos;
                t.start();
            }
        }
        boolean interrupted = false;
        for (long left; (left = startDeadline - System.nanoTime()) > 0 && firstListen.getCount() > 0; ) {
            try {
                firstListen.await(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true; // the caller's interrupt is kept for its own wait
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the {@code LISTEN} connection is up now (else waiters should look again soon). */
    boolean isListening() {
        return listening;
    }

    @Override
    public void close() {
        Thread t;
        synchronized (lock) {
            closed = true;
            t = thread;
        }
        firstListen.countDown(); // nobody waits for a LISTEN that will not come
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    private void run() {
        long backoffMillis = 100;
        boolean reconnect = false;
        while (!isClosed()) {
            try (Connection c = source.get()) {
                c.setAutoCommit(true); // LISTEN inside an open transaction would wait for its commit
                try (Statement st = c.createStatement()) {
                    st.execute("SET application_name = 'locking " + providerId.replace("'", "''") + " listen'");
                    for (String channel : channels) {
                        st.execute("LISTEN " + channel);
                    }
                }
                listening = true;
                firstListen.countDown();
                if (reconnect) {
                    log.info("{}: listening for releases again", providerId);
                    onReconnect.run();
                }
                backoffMillis = 100;
                listen(c);
            } catch (SQLException | RuntimeException e) {
                if (listening || !reconnect) {
                    log.warn("{}: the LISTEN connection failed ({}); waiters look at the table every slice until"
                            + " it is back", providerId, e.getClass().getSimpleName());
                }
            } finally {
                listening = false;
            }
            reconnect = true;
            onReconnect.run(); // a release sent while nobody listened is lost: waiters look again
            try {
                Thread.sleep(backoffMillis);
            } catch (InterruptedException e) {
                // closing
            }
            backoffMillis = Math.min(2000, backoffMillis * 2);
        }
    }

    private void listen(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        long lastPing = System.nanoTime();
        long lastSweep = lastPing;
        while (!isClosed()) {
            PGNotification[] notifications = pg.getNotifications(POLL_MILLIS);
            if (notifications != null) {
                for (PGNotification n : notifications) {
                    try {
                        onPayload.accept(n.getParameter());
                    } catch (RuntimeException e) {
                        log.warn("{}: ignored a notification it could not read ({})", providerId, e.toString());
                    }
                }
            }
            if (System.nanoTime() - lastPing > PING_NANOS) {
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                }
                lastPing = System.nanoTime();
            }
            if (System.nanoTime() - lastSweep > SWEEP_NANOS) {
                sweep.run(c);
                lastSweep = System.nanoTime();
            }
        }
    }
}
