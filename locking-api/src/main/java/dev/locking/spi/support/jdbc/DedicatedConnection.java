package dev.locking.spi.support.jdbc;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One connection outside the pool, kept open by a daemon thread of its own, for what a pooled connection cannot
 * do: wait for the database's messages (PostgreSQL's {@code LISTEN}, Oracle's {@code DBMS_ALERT}, a SQL Server
 * queue's {@code WAITFOR (RECEIVE ...)}), or poll a table now and then.
 *
 * <p>The thread connects, runs the provider's {@link Session#setUp} (in autocommit), then calls
 * {@link Session#poll} in a loop, each call waiting at most the poll interval. A connection that stayed silent
 * for the ping interval is checked with {@link Connection#isValid}. When the connection fails (a restart, a
 * killed session, a network failure) the thread tells the provider ({@link Events#down}: messages sent while
 * nobody listened are lost, so its waiters should look again), waits, backing off from the first to the
 * longest pause, and connects again; once it is set up again, {@link Events#up} says so. An optional chore (a
 * sweep of old rows, say) runs on the same connection at its own interval, so that it never waits for the
 * pool. {@link #start()} starts the thread on first need and waits, up to the start wait, for the first
 * successful set-up, so that a message sent right after the caller's next statement is heard.
 *
 * <pre>{@code
 * DedicatedConnection listener = DedicatedConnection.builder("lp_example", () -> dataSource.getConnection(),
 *                 new DedicatedConnection.Session() {
 *                     public void setUp(Connection c) throws SQLException { ... subscribe ... }
 *                     public void poll(Connection c, int millis) throws SQLException { ... wait, hand on ... }
 *                 })
 *         .events(new DedicatedConnection.Events() {
 *             public void up(boolean again) { if (again) waiters.wakeEveryone(); }
 *             public void down(Exception failure, boolean first) { waiters.wakeEveryone(); }
 *         })
 *         .chore(Duration.ofMinutes(1), this::sweep)
 *         .startWait(Duration.ofSeconds(5))
 *         .build();
 * }</pre>
 *
 * <p>Concurrency: {@link #start} and {@link #close} may be called by any thread; the session, the events and
 * the chore run on the connection's thread only. The thread is made once under {@code lock}, which also guards
 * {@code closed}; callers of {@code start} wait for the first set-up on a latch; the {@code up} flag and the
 * start deadline are volatile.
 *
 * @since 0.2.0
 */
public final class DedicatedConnection implements AutoCloseable {

    /** Where the connection comes from (a driver's {@code DriverManager}, or a DataSource's own connection). */
    @FunctionalInterface
    public interface Source {
        /**
         * Opens a connection.
         *
         * @return a new connection, which this object closes
         * @throws SQLException if it cannot
         */
        Connection open() throws SQLException;
    }

    /** What the provider does with the connection. */
    public interface Session {
        /**
         * Sets a new connection up (subscribes); called after every connect.
         *
         * @param c the connection, in autocommit
         * @throws SQLException if it fails (the thread connects again)
         */
        void setUp(Connection c) throws SQLException;

        /**
         * Waits at most {@code millis} for the database's messages and hands them on; returns early when there is
         * nothing more to wait for.
         *
         * @param c      the connection
         * @param millis the longest wait
         * @throws SQLException if the connection failed (the thread connects again)
         */
        void poll(Connection c, int millis) throws SQLException;
    }

    /** What the connection's thread tells the provider; by default nothing is done. */
    public interface Events {
        /**
         * The connection is set up.
         *
         * @param again true after a failure (messages sent meanwhile were lost), false the first time
         */
        default void up(boolean again) {}

        /**
         * The connection failed, or a connect failed.
         *
         * @param failure what failed
         * @param first   true for the first failure since the connection was last up (or of the first connect):
         *                worth a warning, the retries that follow are not
         */
        default void down(Exception failure, boolean first) {}
    }

    /** Work done now and then on the connection; it handles its own failures. */
    @FunctionalInterface
    public interface Chore {
        /**
         * Does the work.
         *
         * @param c the connection
         */
        void run(Connection c);
    }

    private final String providerId;
    private final Source source;
    private final Session session;
    private final Events events;
    private final @Nullable Chore chore;
    private final long choreNanos;
    private final int pollMillis;
    private final long pingNanos;
    private final long firstPauseMillis;
    private final long longestPauseMillis;
    private final long startWaitNanos;
    private final Object lock = new Object();
    private final CountDownLatch firstUp = new CountDownLatch(1);

    @GuardedBy("lock")
    private @Nullable Thread thread;

    @GuardedBy("lock")
    private boolean closed;

    private volatile boolean up;
    private volatile long startDeadline = System.nanoTime();

    private DedicatedConnection(Builder b) {
        this.providerId = b.providerId;
        this.source = b.source;
        this.session = b.session;
        this.events = b.events;
        this.chore = b.chore;
        this.choreNanos = nanos(b.choreEvery);
        this.pollMillis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, b.poll.toMillis()));
        this.pingNanos = nanos(b.ping);
        this.firstPauseMillis = Math.max(1, b.firstPause.toMillis());
        this.longestPauseMillis = Math.max(firstPauseMillis, b.longestPause.toMillis());
        this.startWaitNanos = nanos(b.startWait);
    }

    /**
     * Starts a builder.
     *
     * @param providerId the provider's id, in the thread's name
     * @param source     where the connection comes from
     * @param session    what is done with it
     * @return a builder
     */
    public static Builder builder(String providerId, Source source, Session session) {
        return new Builder(providerId, source, session);
    }

    /**
     * Starts the thread if not yet, and waits until the connection is set up for the first time, at most the
     * start wait after the thread started; once that time has passed, nobody waits here again. An interrupt
     * does not end the wait early; the flag is kept for the caller's next blocking call.
     */
    public void start() {
        if (up) {
            return;
        }
        synchronized (lock) {
            if (thread == null && !closed) {
                Thread t = new Thread(this::run, "locking-connection-" + providerId);
                t.setDaemon(true);
                thread = t;
                startDeadline = System.nanoTime() + startWaitNanos;
                t.start();
            }
        }
        boolean interrupted = false;
        for (long left; (left = startDeadline - System.nanoTime()) > 0 && firstUp.getCount() > 0; ) {
            try {
                firstUp.await(left, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true; // the caller's interrupt is kept for its own wait
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether the connection is set up now (else the provider's waiters should look again soon).
     *
     * @return true while the session polls
     */
    public boolean isUp() {
        return up;
    }

    /** Stops the thread (waiting up to two seconds for it) and closes the connection. */
    @Override
    public void close() {
        Thread t;
        synchronized (lock) {
            closed = true;
            t = thread;
        }
        firstUp.countDown(); // nobody waits for a set-up that will not come
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Nanoseconds, at most a year's worth: {@code System.nanoTime()} plus it cannot overflow. */
    private static long nanos(Duration d) {
        return d.compareTo(Duration.ofDays(365)) > 0 ? Duration.ofDays(365).toNanos() : d.toNanos();
    }

    private boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    private void run() {
        long pauseMillis = firstPauseMillis;
        boolean again = false;
        while (!isClosed()) {
            try (Connection c = source.open()) {
                c.setAutoCommit(true); // a subscription inside an open transaction would wait for its commit
                session.setUp(c);
                up = true;
                firstUp.countDown();
                events.up(again);
                pauseMillis = firstPauseMillis;
                serve(c);
            } catch (SQLException | RuntimeException e) {
                if (!isClosed()) {
                    events.down(e, up || !again);
                }
            } finally {
                up = false;
            }
            again = true;
            try {
                Thread.sleep(pauseMillis);
            } catch (InterruptedException e) {
                // closing
            }
            pauseMillis = Math.min(longestPauseMillis, pauseMillis * 2);
        }
    }

    private void serve(Connection c) throws SQLException {
        long lastPing = System.nanoTime();
        long lastChore = lastPing;
        while (!isClosed()) {
            session.poll(c, pollMillis);
            if (System.nanoTime() - lastPing > pingNanos) {
                if (!c.isValid((int) Math.max(1, TimeUnit.NANOSECONDS.toSeconds(pingNanos)))) {
                    throw new SQLException("the connection stopped answering", "08006");
                }
                lastPing = System.nanoTime();
            }
            if (chore != null && System.nanoTime() - lastChore > choreNanos) {
                chore.run(c);
                lastChore = System.nanoTime();
            }
        }
    }

    /** Settings of a {@link DedicatedConnection}; not for concurrent use. */
    public static final class Builder {
        private final String providerId;
        private final Source source;
        private final Session session;
        private Events events = new Events() {};
        private @Nullable Chore chore;
        private Duration choreEvery = Duration.ofMinutes(1);
        private Duration poll = Duration.ofMillis(500);
        private Duration ping = Duration.ofSeconds(5);
        private Duration firstPause = Duration.ofMillis(100);
        private Duration longestPause = Duration.ofSeconds(2);
        private Duration startWait = Duration.ofSeconds(5);

        private Builder(String providerId, Source source, Session session) {
            this.providerId = Objects.requireNonNull(providerId, "providerId");
            this.source = Objects.requireNonNull(source, "source");
            this.session = Objects.requireNonNull(session, "session");
        }

        /**
         * What the thread tells the provider.
         *
         * @param events the provider's handler
         * @return this builder
         */
        public Builder events(Events events) {
            this.events = Objects.requireNonNull(events, "events");
            return this;
        }

        /**
         * Work done on the connection every {@code every} (none by default).
         *
         * @param every how often
         * @param work  the work
         * @return this builder
         */
        public Builder chore(Duration every, Chore work) {
            this.choreEvery = positive(every, "every");
            this.chore = Objects.requireNonNull(work, "work");
            return this;
        }

        /**
         * The longest wait of one {@link Session#poll} (500 ms by default): how soon {@link #close()}, a ping
         * or a chore gets its turn.
         *
         * @param interval positive
         * @return this builder
         */
        public Builder pollInterval(Duration interval) {
            this.poll = positive(interval, "interval");
            return this;
        }

        /**
         * How long the connection may stay silent before {@link Connection#isValid} checks it (5 s by default).
         *
         * @param after positive
         * @return this builder
         */
        public Builder pingAfter(Duration after) {
            this.ping = positive(after, "after");
            return this;
        }

        /**
         * The pause after a failure, doubled after each failure up to {@code longest} (100 ms and 2 s by default).
         *
         * @param first   the first pause, positive
         * @param longest the longest pause
         * @return this builder
         */
        public Builder backoff(Duration first, Duration longest) {
            this.firstPause = positive(first, "first");
            this.longestPause = positive(longest, "longest");
            return this;
        }

        /**
         * How long {@link DedicatedConnection#start()} waits for the first set-up (5 s by default; the provider's
         * connect timeout is a good choice).
         *
         * @param wait not negative
         * @return this builder
         */
        public Builder startWait(Duration wait) {
            if (wait.isNegative()) {
                throw new IllegalArgumentException("startWait must not be negative, got " + wait);
            }
            this.startWait = wait;
            return this;
        }

        /**
         * Makes the object; nothing connects before {@link DedicatedConnection#start()}.
         *
         * @return it
         */
        public DedicatedConnection build() {
            return new DedicatedConnection(this);
        }

        private static Duration positive(Duration d, String name) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
