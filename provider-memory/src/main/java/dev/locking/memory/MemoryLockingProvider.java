package dev.locking.memory;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.KeyWaiters;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * The in-memory {@code lp_memory} provider: the SPI mapped onto a {@link LockTable} (per-key records under
 * striped locks, all-or-nothing across keys), an expiry {@link SweepLoop}, and the toolkit's
 * {@link KeyWaiters} for {@link #awaitRelease}, woken by the table whenever it frees a key, which it then
 * keeps for the woken waiter's thread for a short grace ({@link Reservations}).
 *
 * <p>Waiting policy (who of the waiters of one service goes first, how long a call waits in all) is the
 * core's: this class only sleeps a waiter until a key it waits for may be free. The hand-off is the
 * backend's own rule, as a server's queue would be: the table is shared by every service of the JVM.
 *
 * <h2>Concurrency</h2>
 * Safe for concurrent use. The table and the waiter registry guard themselves (see their comments).
 * {@code sweeper} is written once, under {@code lifecycle}, and read without it (volatile) on the hot path
 * to see whether it still has to be started; {@code close()} marks the table closed under
 * {@code lifecycle} too, so no sweeper starts after it. {@code registrations} only counts for tests.
 */
final class MemoryLockingProvider implements LockingProvider {

    /** How often expired records are swept away when no option says otherwise. */
    static final Duration DEFAULT_SWEEP_INTERVAL = Duration.ofSeconds(1);

    /** The longest single sleep of a waiter before it looks at its keys again. */
    static final Duration DEFAULT_WAIT_SLICE = Duration.ofSeconds(1);

    private final String id;
    private final LockingClock time;
    private final long sweepIntervalNanos;
    private final KeyWaiters waiters;
    private final LockTable table;
    /** Waiter registrations, one per key: only for tests to see who waits. */
    private final AtomicInteger registrations = new AtomicInteger();
    private final Object lifecycle = new Object();

    /** Written under {@code lifecycle}, read without it (so not @GuardedBy): see the class comment. */
    private volatile @Nullable Thread sweeper;

    /**
     * Creates a provider with a table of its own and the default hand-off grace.
     *
     * @param id            the provider id
     * @param time          the clocks
     * @param sweepInterval time between two background sweeps, positive
     * @param waitSlice     the longest single sleep of a waiter before it looks at its keys again, positive
     */
    MemoryLockingProvider(String id, LockingClock time, Duration sweepInterval, Duration waitSlice) {
        this(id, time, sweepInterval, waitSlice, Reservations.DEFAULT_GRACE);
    }

    /**
     * Creates a provider with a table of its own.
     *
     * @param id            the provider id
     * @param time          the clocks
     * @param sweepInterval time between two background sweeps, positive
     * @param waitSlice     the longest single sleep of a waiter before it looks at its keys again, positive
     * @param handoffGrace  how long a freed key stays reserved for the waiter it was handed to, positive
     */
    MemoryLockingProvider(String id, LockingClock time, Duration sweepInterval, Duration waitSlice,
            Duration handoffGrace) {
        requirePositive("sweepInterval", sweepInterval);
        requirePositive("waitSlice", waitSlice);
        requirePositive("handoffGrace", handoffGrace);
        this.id = id;
        this.time = time;
        this.sweepIntervalNanos = saturatedNanos(sweepInterval);
        this.waiters = new KeyWaiters(waitSlice);
        this.table = new LockTable(id, time, waiters, saturatedNanos(handoffGrace));
    }

    private static void requirePositive(String name, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive: " + value);
        }
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        if (lease == null) {
            return table.tryAcquire(keys, ownerId, 0, null);
        }
        // Capped at Leases.MAX, so that deadlines never overflow.
        long leaseNanos = Leases.toNanos(lease);
        Instant expiresAt = Leases.expiresAt(time.wallTime(), lease);
        startSweeperIfNeeded();
        return table.tryAcquire(keys, ownerId, leaseNanos, expiresAt);
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        long leaseNanos = Leases.toNanos(lease);
        Instant expiresAt = Leases.expiresAt(time.wallTime(), lease);
        startSweeperIfNeeded();
        return table.extend(keys, ownerId, leaseNanos, expiresAt);
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        return table.release(keys, ownerId);
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        if (ownerId == null) {
            table.releaseEverything();
        } else {
            table.releaseAll(ownerId);
        }
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        return table.inspect(key);
    }

    /**
     * Sleeps until a release or an expiry frees one of the keys (the table wakes the longest waiter of a
     * freed key and keeps the key for its thread for the grace), until the first lease of the held keys or
     * reservation for another thread lapses, or until {@code maxWait}; returns at once when no key is held
     * nor reserved for another thread. Every slice the waiter looks at its keys again, which also notices a
     * lease that its holder shortened meanwhile and a reservation that lapsed. A waiter that leaves by an
     * interrupt or a failure passes the keys reserved for it on. Starts the sweeper, which ends reservations
     * nobody used (a caller that returns from here without trying its keys).
     */
    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        long deadline = time.nanoTime() + Math.min(saturatedNanos(maxWait), Leases.MAX.toNanos());
        startSweeperIfNeeded();
        // Register before looking at the table, so that a release cannot fall between the look and the sleep.
        KeyWaiters.Waiter waiter = waiters.register(keys);
        registrations.addAndGet(keys.size());
        boolean willTry = false;
        try {
            while (true) {
                long blocked = table.blockedFor(keys);
                long left = deadline - time.nanoTime();
                if (blocked == LockTable.NOT_BLOCKED || left <= 0 || waiter.await(Math.min(left, blocked))) {
                    break;
                }
                // A slice, a lease or a reservation ran out without a wake-up: look again (the look expires a
                // lapsed lease and hands on a lapsed reservation).
            }
            willTry = true; // the caller tries its keys next, so a key handed to it is not passed on
        } finally {
            registrations.addAndGet(-keys.size());
            // Every wake-up from the table comes with a reservation, passed on below if need be: KeyWaiters
            // must not pass it on a second time.
            waiter.used();
            waiter.close();
            if (!willTry) {
                // After close, so that no release can reserve a key for this thread any more.
                table.passOnReservations(keys);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Hand-off to queued owners

    /** True: a released key goes to the first live owner of its queue, in the release's own step. */
    @Override
    public boolean handsOff() {
        return true;
    }

    @Override
    public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
        long leaseNanos = Leases.toNanos(lease);
        Instant expiresAt = Leases.expiresAt(time.wallTime(), lease);
        startSweeperIfNeeded();
        return table.acquireOrQueue(key, ownerId, leaseNanos, expiresAt, Leases.toNanos(stay));
    }

    @Override
    public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
            throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        return table.awaitGrant(key, ownerId, Math.min(saturatedNanos(maxWait), Leases.MAX.toNanos()));
    }

    @Override
    public void leaveQueue(String key, String ownerId) {
        table.leaveQueue(key, ownerId);
    }

    /** The number of owners queued for a key. */
    int queuedFor(String key) {
        return table.queuedFor(key);
    }

    // ---------------------------------------------------------------------------------------------
    // Sweeper and close

    private void startSweeperIfNeeded() {
        if (sweeper == null) {
            synchronized (lifecycle) {
                if (sweeper == null && !table.isClosed()) {
                    sweeper = SweepLoop.start(table, id, sweepIntervalNanos);
                }
            }
        }
    }

    /** Expires every lapsed record now (the sweeper does this every interval). */
    void sweep() {
        table.sweep();
    }

    /** Drops every lock, stops the sweeper and wakes every waiter; idempotent. */
    @Override
    public void close() {
        Thread thread;
        synchronized (lifecycle) {
            if (!table.close()) {
                return;
            }
            thread = sweeper;
        }
        if (thread != null) {
            LockSupport.unpark(thread);
        }
        waiters.wakeEveryone();
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return duration.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Introspection for tests

    /** The number of records (held keys, plus expired ones not yet noticed). */
    int size() {
        return table.size();
    }

    /** The number of threads waiting in {@link #awaitRelease}, counted once per key they wait for. */
    int waiterCount() {
        return registrations.get();
    }

    /** The number of keys someone waits for or that are reserved for a waiter. */
    int queueCount() {
        int reservedOnly = 0;
        for (String key : table.reservedKeys()) {
            if (!waiters.isWaitedFor(key)) {
                reservedOnly++;
            }
        }
        return waiters.waitingKeys() + reservedOnly;
    }

    /** The number of owners in the owner index. */
    int ownerCount() {
        return table.ownerCount();
    }

    /** The background sweeper, once started. */
    @Nullable Thread sweeperThread() {
        return sweeper;
    }

    Duration sweepInterval() {
        return Duration.ofNanos(sweepIntervalNanos);
    }

    @Override
    public String toString() {
        return "MemoryLockingProvider[" + id + "]";
    }
}
