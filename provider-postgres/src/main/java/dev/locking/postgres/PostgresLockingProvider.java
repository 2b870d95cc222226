package dev.locking.postgres;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.GrantInbox;
import dev.locking.spi.support.KeyWaiters;
import dev.locking.spi.support.Leases;
import dev.locking.spi.support.LockingClock;
import dev.locking.spi.support.jdbc.DedicatedConnection;
import dev.locking.spi.support.jdbc.SqlCalls;
import dev.locking.spi.support.jdbc.SqlValues;
import java.security.SecureRandom;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lp_postgres}: locks as rows of one table, changed only by the functions {@link Schema} creates with it.
 *
 * <p>Every operation is one statement in autocommit, so one round trip and one transaction: {@link #tryAcquire}
 * (all keys or none), {@link #release}, {@link #extend}, {@link #releaseAll}, and the hand-off's
 * {@link #acquireOrQueue} and {@link #leaveQueue}. The database is the only judge: expiries are its clock
 * ({@code clock_timestamp()}), rows are locked in byte order of their keys by every function (so two calls never
 * deadlock), and READ COMMITTED with row locks never fails a statement for serialization.
 *
 * <p>Waiting: a single-key {@code execute} waits in the key's queue table; the release that frees the key hands it
 * to the first live queued owner in the same transaction and sends {@code NOTIFY} naming that owner on the channel
 * of the provider that queued it (its own, so no other JVM wakes for it), which the {@link NotifyListener} passes to
 * the owner's slot in the {@link GrantInbox}; a grant to an owner the releasing provider queued travels only in the
 * release's reply. Other waits ({@link #awaitRelease}) mark the rows they wait for, and a release of a marked row
 * sends a release notification that wakes the first local waiter in {@link KeyWaiters}; a release nobody waits for
 * sends nothing.
 *
 * <p>Concurrency: the provider keeps no lock state in the JVM; its fields are final, and the shared JVM state (the
 * toolkit's {@link SqlCalls} and {@link DedicatedConnection}, the waiters, the expected grants) is each safe for
 * concurrent use.
 */
final class PostgresLockingProvider implements LockingProvider {
    private static final Logger log = LoggerFactory.getLogger(PostgresLockingProvider.class);

    /** The longest a waiter sleeps before it looks again, so that an expiry nobody announced still frees it soon. */
    static final Duration MAX_WAIT_SLICE = Duration.ofSeconds(1);
    /** How much longer than a waiter's sleep its mark on a row lasts (the reply's way back, say). */
    private static final long MARK_SLACK_MILLIS = 1000;
    /** How long a grant sleeper waits while the LISTEN connection is down, before its owner looks again. */
    private static final long UNHEARD_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    /** How often tryAcquire is sent again after it lost a race it could only see after writing. */
    private static final int RACE_ATTEMPTS = 5;
    /** How long after its lease lapsed a row nobody queues for is swept away. */
    static final long SWEEP_AFTER_MILLIS = 60_000;
    /** How often the LISTEN connection's thread runs the sweep. */
    private static final Duration SWEEP_EVERY = Duration.ofMinutes(1);
    /** The sweep's bound on the server: it runs on the LISTEN thread, which must get back to listening. */
    private static final int SWEEP_SECONDS = 5;

    private final String id;
    private final Schema schema;
    private final SqlCalls db;
    private final KeyWaiters waiters = new KeyWaiters(MAX_WAIT_SLICE);
    private final GrantInbox grants = new GrantInbox();
    private final DedicatedConnection listener;
    /** This provider's own channel, for grants to the owners it queued: no other JVM wakes for them. */
    private final String grantChannel;
    private final LockingClock clock = LockingClock.SYSTEM;
    /** For tests: the payloads the listener heard, and of those the grants. */
    private final AtomicLong payloadsHeard = new AtomicLong();
    private final AtomicLong grantPayloadsHeard = new AtomicLong();

    PostgresLockingProvider(String id, PostgresSettings settings, @Nullable DataSource borrowed) {
        this.id = id;
        this.schema = new Schema(settings.schema(), settings.table());
        this.db = Database.open(id, settings, schema, borrowed);
        this.grantChannel = schema.channel + "_" + Codec.hex(randomBytes(8));
        this.listener = DedicatedConnection.builder(id, () -> Database.dedicated(id, settings, borrowed),
                        new NotifyListener(id, List.of(schema.channel, grantChannel), this::onHeard))
                .events(new ListenerEvents()).chore(SWEEP_EVERY, this::sweep)
                .startWait(settings.connectTimeout()).build();
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        checkOpen();
        long leaseMillis = lease == null ? 0 : Leases.toMillis(lease);
        for (int attempt = 1; ; attempt++) {
            Instant sentAt = clock.wallTime();
            try {
                AcquireResult result = db.query("tryAcquire", true, schema.acquire, (c, ps) -> {
                    ps.setArray(1, Database.keys(c, keys));
                    SqlValues.setOwner(ps, 2, ownerId);
                    ps.setLong(3, leaseMillis);
                }, rs -> {
                    rs.next();
                    int at = rs.getInt(1);
                    if (!rs.wasNull()) {
                        return new AcquireResult.Conflict(keys.get(at - 1));
                    }
                    Long[] tokens = (Long[]) rs.getArray(2).getArray();
                    return SqlValues.acquired(keys, tokens, SqlValues.expiry(sentAt, rs, 3));
                });
                log.debug("{}: tryAcquire {} for {}: {}", id, keys, ownerLabel(ownerId), result);
                return result;
            } catch (Database.RaceLost e) {
                if (attempt == RACE_ATTEMPTS) {
                    return new AcquireResult.Conflict(keys.get(e.position - 1));
                }
            }
        }
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        checkOpen();
        int extended = db.update("extend", schema.extend, (c, ps) -> {
            ps.setLong(1, Leases.toMillis(lease));
            ps.setArray(2, Database.keys(c, keys));
            ps.setBytes(3, SqlValues.bytes(ownerId));
        });
        log.debug("{}: extended {} of {} for {} by {}", id, extended, keys, ownerLabel(ownerId), lease);
        return extended == keys.size();
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        checkOpen();
        Released released = db.query("release", true, schema.release, (c, ps) -> {
            ps.setArray(1, Database.keys(c, keys));
            SqlValues.setOwner(ps, 2, ownerId);
            ps.setString(3, grantChannel);
        }, Released::read);
        // The grants the release made: a waiter this provider queued is woken now, from the reply (the release sent
        // no NOTIFY for it); a waiter of another provider is woken by its NOTIFY, and finds no slot here.
        for (String grant : released.grants()) {
            onNotification(grant);
        }
        log.debug("{}: released {} of {} for {}", id, released.freed(), keys, ownerLabel(ownerId));
        return released.freed() == keys.size();
    }

    /** The release function's reply: how many keys it freed, and the payloads of the grants it made. */
    private record Released(int freed, List<String> grants) {
        static Released read(ResultSet rs) throws SQLException {
            rs.next();
            int freed = rs.getInt(1);
            Array made = rs.getArray(2);
            return new Released(freed, made == null ? List.of() : List.of((String[]) made.getArray()));
        }
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        checkOpen();
        int released = db.query("releaseAll", true, schema.releaseAll, (c, ps) -> SqlValues.setOwner(ps, 1, ownerId),
                SqlValues::firstInt);
        log.debug("{}: releaseAll for {} released {}", id, ownerId == null ? "everyone" : ownerLabel(ownerId), released);
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        checkOpen();
        Instant sentAt = clock.wallTime();
        return db.query("inspect", false, schema.inspect, (c, ps) -> ps.setBytes(1, SqlValues.bytes(key)), rs -> {
            if (!rs.next()) {
                return Optional.empty();
            }
            byte[] owner = rs.getBytes(1);
            return Optional.of(new LockInfo(key, owner == null ? null : SqlValues.owner(owner, key, id),
                    SqlValues.expiry(sentAt, rs, 3), rs.getLong(2)));
        });
    }

    /**
     * Registers as a waiter, then marks the keys' rows as waited for (for the sleep plus a second) and learns
     * whether any is held or queued for: if none is, returns at once; otherwise sleeps until a release
     * notification wakes it, the first lease among them runs out, {@link #MAX_WAIT_SLICE} or {@code maxWait}.
     */
    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        checkOpen();
        long start = System.nanoTime();
        listener.start();
        List<String> tags = keys.stream().map(k -> Codec.hex(SqlValues.bytes(k))).toList();
        try (KeyWaiters.Waiter waiter = waiters.register(tags)) {
            long slice = Math.min(Leases.toNanos(maxWait), Leases.toNanos(MAX_WAIT_SLICE));
            long markMillis = TimeUnit.NANOSECONDS.toMillis(slice) + MARK_SLACK_MILLIS;
            long[] look = db.query("awaitRelease", true, schema.await, (c, ps) -> {
                ps.setArray(1, Database.keys(c, keys));
                ps.setLong(2, markMillis);
            }, rs -> rs.next() ? new long[] {rs.getLong(1), SqlValues.longOr(rs, 2, -1)} : new long[] {0, -1});
            if (look[1] >= 0) {
                slice = Math.min(slice, TimeUnit.MILLISECONDS.toNanos(look[1] + 1));
            }
            if (!listener.isUp()) {
                slice = Math.min(slice, UNHEARD_NANOS);
            }
            waiter.sleepAfterLook(look[0] > 0, slice, start, maxWait, db::isClosed);
        }
    }

    /** Yes: a release hands the key to the first live owner of its queue table (see schema.sql, free). */
    @Override
    public boolean handsOff() {
        return true;
    }

    /**
     * Runs the queue function: takes the key, or queues the owner (or keeps its place) for {@code stay} by the
     * database's clock. Before it runs, the listener is up and the owner's grant is expected ({@link GrantInbox}),
     * so that a grant sent right after the reply is not lost.
     */
    @Override
    public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
        checkOpen();
        listener.start();
        long leaseMillis = Leases.toMillis(lease);
        long stayMillis = Leases.toMillis(stay);
        long sent = System.nanoTime();
        Instant sentAt = clock.wallTime();
        GrantInbox.Slot slot = grants.expect(ownerId, key, Codec.md5(key), stay);
        long[] reply = db.query("acquireOrQueue", true, schema.enqueue, (c, ps) -> {
            ps.setBytes(1, SqlValues.bytes(key));
            ps.setBytes(2, SqlValues.bytes(ownerId));
            ps.setLong(3, leaseMillis);
            ps.setLong(4, stayMillis);
            ps.setString(5, grantChannel);
        }, rs -> {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), SqlValues.longOr(rs, 3, -1)};
        });
        if (reply[0] == 1) {
            grants.forget(ownerId);
            return new AcquireResult.Acquired(Map.of(key, reply[1]), reply[2] >= 0 ? sentAt.plusMillis(reply[2]) : null);
        }
        slot.holderLapsesAfter(sent, reply[2]);
        return new AcquireResult.Conflict(key);
    }

    /**
     * Sleeps until the listener delivers the owner's grant, {@code maxWait} passed, or the holder's lease (as the
     * owner's last {@link #acquireOrQueue} saw it) ran out; while the LISTEN connection is down, a quarter second.
     */
    @Override
    public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
            throws InterruptedException {
        checkOpen();
        long now = System.nanoTime();
        long deadline = now + Math.min(Leases.toNanos(maxWait), listener.isUp() ? Long.MAX_VALUE / 4 : UNHEARD_NANOS);
        AcquireResult.Acquired grant = grants.awaitGrant(ownerId, key, Codec.md5(key), deadline, db::isClosed);
        if (grant != null) {
            log.debug("{}: {} was handed {} (token {})", id, ownerLabel(ownerId), key, grant.fencingTokens().get(key));
        }
        return grant;
    }

    /** Runs the leave function: out of the queue, and a key handed to the owner meanwhile goes on to the next. */
    @Override
    public void leaveQueue(String key, String ownerId) {
        checkOpen();
        grants.forget(ownerId);
        boolean held = db.query("leaveQueue", true, schema.leave, (c, ps) -> {
            ps.setBytes(1, SqlValues.bytes(key));
            ps.setBytes(2, SqlValues.bytes(ownerId));
        }, rs -> rs.next() && rs.getBoolean(1));
        log.debug("{}: {} left the queue of {}{}", id, ownerLabel(ownerId), key, held ? " and released it" : "");
    }

    @Override
    public void close() {
        if (db.isClosed()) {
            return;
        }
        db.close();
        listener.close();
        waiters.wakeEveryone();
        grants.wakeEveryone();
    }

    /** For tests: how many threads sleep in {@link #awaitRelease} now. */
    int sleepingWaiters() {
        return waiters.sleepingWaiters();
    }

    /** For tests: whether the LISTEN connection is up. */
    boolean isListening() {
        return listener.isUp();
    }

    /** For tests: how many payloads the listener heard. */
    long payloadsHeard() {
        return payloadsHeard.get();
    }

    /** For tests: how many grant payloads the listener heard. */
    long grantPayloadsHeard() {
        return grantPayloadsHeard.get();
    }

    private void onHeard(String payload) {
        payloadsHeard.incrementAndGet();
        if (payload.startsWith("g ")) {
            grantPayloadsHeard.incrementAndGet();
        }
        onNotification(payload);
    }

    /** A payload on the table's channel: {@code r <hex key>} (released) or {@code g <token> <ms> <md5 key> <hex owner>}. */
    private void onNotification(String payload) {
        if (payload.startsWith("r ")) {
            waiters.wakeFirst(payload.substring(2));
        } else if (payload.startsWith("g ")) {
            String[] parts = payload.split(" ", -1);
            String owner = SqlValues.owner(Codec.unhex(parts[4]), "(grant)", id);
            grants.deliver(parts[3], owner, Long.parseLong(parts[1]), Long.parseLong(parts[2]));
        }
    }

    /**
     * Deletes rows whose lease lapsed a minute ago or more (nobody queued for them) and queue entries as old, so
     * that abandoned keys leave nothing behind for long; a lapsed row is free either way.
     */
    void sweep(Connection c) {
        try (PreparedStatement ps = c.prepareStatement(schema.sweep)) {
            ps.setQueryTimeout(SWEEP_SECONDS);
            ps.setLong(1, SWEEP_AFTER_MILLIS);
            try (ResultSet rs = ps.executeQuery()) {
                log.debug("{}: swept {} lapsed locks", id, SqlValues.firstInt(rs));
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("{}: the sweep of lapsed locks failed; the next one tries again", id, e);
        }
    }

    /** Notifications sent while the LISTEN connection was down are lost: every waiter looks at the table again. */
    private final class ListenerEvents implements DedicatedConnection.Events {
        @Override
        public void up(boolean again) {
            if (again) {
                log.info("{}: listening for releases again", id);
                wakeEveryone();
            }
        }

        @Override
        public void down(Exception failure, boolean first) {
            if (first) {
                log.warn("{}: the LISTEN connection failed ({}); waiters look at the table every slice until it is"
                        + " back", id, failure.getClass().getSimpleName());
            }
            wakeEveryone();
        }

        private void wakeEveryone() {
            waiters.wakeEveryone();
            grants.wakeEveryone();
        }
    }

    private void checkOpen() {
        if (db.isClosed()) {
            throw new IllegalStateException(id + " is closed");
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    static String ownerLabel(@Nullable String ownerId) {
        return ownerId == null ? "(anonymous)" : "owner \"" + ownerId + "\"";
    }
}
