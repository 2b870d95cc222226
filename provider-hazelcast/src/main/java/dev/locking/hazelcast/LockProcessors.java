package dev.locking.hazelcast;

import com.hazelcast.core.ReadOnly;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import com.hazelcast.nio.serialization.HazelcastSerializationException;
import dev.locking.hazelcast.Outcome.Status;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The entry processors that run on the members: each is one atomic step on one key, on the partition
 * thread of the member that owns the key's partition.
 *
 * <h2>Rules every processor here follows</h2>
 * <ul>
 *   <li>Depend on Hazelcast and the JDK only: members load these classes from this jar alone.</li>
 *   <li>Decide with the member's clock ({@link System#currentTimeMillis()}): a held entry whose
 *       {@link LockEntry#expiresAt()} has passed is free.</li>
 *   <li>Keep an entry only while it is needed: a release removes it ({@link #end}), except when a waiter
 *       marked it, which leaves a free entry for {@link LockEntry#ENDED_LOCK_TTL_MILLIS} (its update is what
 *       wakes the waiters). Every stored entry has a TTL ({@link LockEntry#ttlMillis}), so a lapsed lock
 *       that nobody touches goes too. A new token is above the stored one while there is one, and never
 *       below the member's own clock ({@link #tokenClock()}), so no key needs a counter that lives for
 *       ever.</li>
 *   <li>Leave a value this provider did not write alone: report it ({@link Outcome#foreign}) and change
 *       nothing, so foreign data at one key disturbs no other key.</li>
 *   <li>Never re-run the decision on a backup replica: a processor that changed the entry hands its
 *       backups an {@link Apply} with the exact result, so a backup taken over after a member loss holds
 *       what the primary held (token included), whatever its clock says. The one exception is
 *       {@link ReleaseEvery}, which runs on whole partitions and decides without the clock.</li>
 * </ul>
 */
final class LockProcessors {

    private LockProcessors() {}

    /** Reads the entry's lock, or {@code null} when the key is free (no entry, a free entry, a lapsed lease). */
    static @Nullable LockEntry live(@Nullable LockEntry current, long now) {
        return current == null || !current.heldAt(now) ? null : current;
    }

    /** The last value {@link #tokenClock()} gave in this JVM. */
    private static final AtomicLong LAST_TOKEN = new AtomicLong();

    /**
     * The floor of every new fencing token granted on this member: its clock in microseconds since the
     * epoch, made strictly increasing within the JVM (one more than the last value when the clock has not
     * moved on, or stepped back). So a key granted twice by one member gets increasing tokens even when its
     * entry was removed in between, and a member that starts after the whole cluster lost its data starts
     * above every token given before, as long as its clock is not behind the clocks that granted them.
     * Tokens stay below 2^53 (exact in a JSON number or a double) until the year 2255.
     */
    static long tokenClock() {
        Instant now = Instant.now();
        long micros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
        return LAST_TOKEN.updateAndGet(last -> Math.max(last + 1, micros));
    }

    /**
     * Reads the entry's value without assuming its type: a {@link LockEntry}, {@code null} when the key has
     * no entry, or a {@link Foreign} when it holds something else (another program's value, or bytes this
     * member cannot read). A plain {@code entry.getValue()} would throw a {@link ClassCastException} there.
     */
    static @Nullable Object read(Map.Entry<String, LockEntry> entry) {
        Object value;
        try {
            value = ((Map.Entry<String, ?>) entry).getValue();
        } catch (HazelcastSerializationException e) {
            return new Foreign("a value this member cannot deserialize (" + e.getMessage() + ")");
        }
        return value == null || value instanceof LockEntry ? value : new Foreign("a " + value.getClass().getName());
    }

    /** What a key holds instead of a lock. */
    record Foreign(String what) {
        Outcome outcome() {
            return Outcome.foreign(what);
        }
    }

    /**
     * What a key becomes when its lock ends (released, rolled back, or found lapsed): the lock of the first
     * owner whose queue entry is live at {@code now}, handed to it with the key's next token (see
     * {@link LockEntry#handedTo}; its update is the grant the owner's JVM hears of, {@link GrantListener});
     * without one, what {@link #endUnqueued} gives.
     */
    static @Nullable LockEntry end(LockEntry lock, long now) {
        OwnerQueue live = lock.queue().live(now);
        OwnerQueue.Entry next = live.head();
        if (next == null) {
            return endUnqueued(lock);
        }
        return lock.handedTo(next, live.withoutHead(), LockEntry.nextToken(lock, tokenClock()), now);
    }

    /**
     * What a key nobody queues for becomes when its lock ends: nothing (the entry is removed), or, when a
     * waiter marked the lock, a free entry that lives {@link LockEntry#ENDED_LOCK_TTL_MILLIS}: its update is
     * the event that wakes the waiters.
     */
    static @Nullable LockEntry endUnqueued(LockEntry lock) {
        return lock.waited() ? lock.freed() : null;
    }

    /**
     * Stores a value with the TTL it needs, or removes the entry when {@code value} is {@code null}.
     */
    static void store(Map.Entry<String, LockEntry> entry, @Nullable LockEntry value) {
        if (value == null) {
            entry.setValue(null);
            return;
        }
        storeValue(entry, value);
    }

    /**
     * Stores a value with the TTL it needs ({@link LockEntry#ttlMillis}). The explicit TTL (0 for a lock
     * without a lease: never) also overrides a default TTL or max-idle the map's configuration may have.
     */
    private static void storeValue(Map.Entry<String, LockEntry> entry, LockEntry value) {
        long ttl = value.ttlMillis(System.currentTimeMillis());
        if (entry instanceof ExtendedMapEntry) {
            @SuppressWarnings("unchecked")
            ExtendedMapEntry<String, LockEntry> extended = (ExtendedMapEntry<String, LockEntry>) entry;
            extended.setValue(value, ttl, TimeUnit.MILLISECONDS);
        } else {
            entry.setValue(value);
        }
    }

    /**
     * Base of the steps on one lock: reads the entry's value ({@link #read}), answers a {@link Foreign} one
     * itself, and leaves the decision on a lock entry, or on none, to {@link #decide}.
     */
    abstract static class Step implements EntryProcessor<String, LockEntry, Outcome>, DataSerializable {
        private static final long serialVersionUID = 1L;

        @Override
        public final Outcome process(Map.Entry<String, LockEntry> entry) {
            Object value = read(entry);
            return value instanceof Foreign foreign ? foreign.outcome() : decide(entry, (LockEntry) value);
        }

        /** Decides on the key's lock entry, or {@code null} when the key has none. */
        abstract Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored);
    }

    /**
     * Base of the processors that may change the entry: it records each change, by key, so that the backups
     * apply exactly that. One processor may run on several keys ({@code executeOnKeys}), where Hazelcast asks
     * it for one backup processor per partition after all of that partition's keys, and may hand the same
     * instance to the partition threads of several partitions at once: hence a concurrent map of changes, and
     * an {@link Apply} that applies to each key only the value stored at that key. Processors are
     * {@link DataSerializable}: their fields travel after the class name, and members create them with the
     * no-argument constructor (fields are therefore not final).
     *
     * <p>Concurrency: {@link #changes} is a concurrent map; every other field is written before the processor
     * runs.
     */
    abstract static class Mutating extends Step {
        private static final long serialVersionUID = 1L;

        private final transient Map<String, Apply.Change> changes = new ConcurrentHashMap<>();

        final void put(Map.Entry<String, LockEntry> entry, @Nullable LockEntry value) {
            store(entry, value);
            changes.put(entry.getKey(), new Apply.Change(value));
        }

        @Override
        public final @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return changes.isEmpty() ? null : new Apply(Map.copyOf(changes));
        }
    }

    /** Takes a key for an owner with the key's next token, or re-enters it, or reports the holder. */
    static final class Acquire extends Mutating {
        private static final long serialVersionUID = 2L;

        private @Nullable String owner;
        private long leaseMillis;
        private long nonce;

        /** For Hazelcast. */
        Acquire() {}

        /**
         * @param owner       the owner, or {@code null} for an anonymous lock
         * @param leaseMillis the lease, or 0 for none
         * @param nonce       the acquire call's nonce (not 0): a lock that carries it was taken by this very
         *                    call, whose answer an interrupt cut off, and is reported taken again
         */
        Acquire(@Nullable String owner, long leaseMillis, long nonce) {
            this.owner = owner;
            this.leaseMillis = leaseMillis;
            this.nonce = nonce;
        }

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            long now = System.currentTimeMillis();
            if (stored != null && stored.heldAt(now) && nonce != 0 && stored.nonce() == nonce) {
                return Outcome.of(Status.TAKEN, stored, now); // this call's own, sent again
            }
            if (stored != null && stored.heldAt(now)) {
                if (!stored.ownedBy(owner)) {
                    return Outcome.of(Status.CONFLICT, stored, now);
                }
                if (leaseMillis == 0) {
                    return new Outcome(Status.REENTERED, stored, stored, stored.remainingMillis(now));
                }
                LockEntry renewed = stored.withExpiresAt(now + leaseMillis);
                put(entry, renewed);
                return new Outcome(Status.REENTERED, renewed, stored, leaseMillis);
            }
            // No barging: a free key goes to whoever queues first (acquireOrQueue), not to a plain acquire.
            OwnerQueue queued = stored == null ? OwnerQueue.EMPTY : stored.queue().live(now);
            if (!queued.mayTake(owner)) {
                return Outcome.of(Status.CONFLICT);
            }
            LockEntry taken = LockEntry.held(owner, LockEntry.nextToken(stored, tokenClock()),
                    leaseMillis == 0 ? LockEntry.NEVER : now + leaseMillis, nonce).withQueue(queued.without(owner));
            put(entry, taken);
            return Outcome.of(Status.TAKEN, taken, now);
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(owner);
            out.writeLong(leaseMillis);
            out.writeLong(nonce);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            owner = in.readString();
            leaseMillis = in.readLong();
            nonce = in.readLong();
        }
    }

    /** Resets the lease of a key the owner holds. */
    static final class Extend extends Mutating {
        private static final long serialVersionUID = 2L;

        private String owner = "";
        private long leaseMillis;

        /** For Hazelcast. */
        Extend() {}

        Extend(String owner, long leaseMillis) {
            this.owner = owner;
            this.leaseMillis = leaseMillis;
        }

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            long now = System.currentTimeMillis();
            LockEntry current = live(stored, now);
            if (current == null || !current.ownedBy(owner)) {
                return Outcome.of(Status.NOT_DONE);
            }
            LockEntry renewed = current.withExpiresAt(now + leaseMillis);
            put(entry, renewed);
            return Outcome.of(Status.DONE, renewed, now);
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(owner);
            out.writeLong(leaseMillis);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            owner = Objects.requireNonNull(in.readString(), "owner");
            leaseMillis = in.readLong();
        }
    }

    /**
     * Releases a key held anonymously or by the given owner ({@code anyHolder}: {@code release}), or only
     * by the given owner (not {@code anyHolder}: what {@code releaseAll(owner)} runs on each key its index
     * lookup found, which may have changed hands since; an anonymous lock is then left alone). A lapsed
     * lock is turned free as well (without counting as released), so that it leaves the owner index.
     */
    static final class Release extends Mutating {
        private static final long serialVersionUID = 2L;

        private @Nullable String owner;
        private boolean anyHolder;

        /** For Hazelcast. */
        Release() {}

        Release(@Nullable String owner, boolean anyHolder) {
            this.owner = owner;
            this.anyHolder = anyHolder;
        }

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            if (stored == null || !stored.held()) {
                return Outcome.of(Status.NOT_DONE);
            }
            long now = System.currentTimeMillis();
            if (stored.expired(now)) {
                put(entry, end(stored, now));
                return Outcome.of(Status.NOT_DONE);
            }
            if (stored.ownedBy(owner) || (anyHolder && stored.owner() == null)) {
                put(entry, end(stored, now));
                return Outcome.of(Status.DONE);
            }
            return Outcome.of(Status.NOT_DONE);
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(owner);
            out.writeBoolean(anyHolder);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            owner = in.readString();
            anyHolder = in.readBoolean();
        }
    }

    /**
     * Ends every held lock, lapsed or not, that nobody queues for ({@link #endUnqueued}: removed, or left free
     * for its waiters), and reports the token of each held lock that has a queue: {@code releaseAll()} runs it
     * on every entry of the map, then ends each reported lock with an {@link Undo} of its token, which hands
     * the key to its first live queued owner.
     * It runs on whole partitions, where Hazelcast sends one backup processor for the partition, not one
     * per entry; so it is its own backup processor, and decides without the clock (a replica holds the
     * same entries as its primary, so it frees the same ones; a hand-off needs the clock and a new token,
     * which only a step on one key can give its backups exactly).
     */
    static final class ReleaseEvery implements EntryProcessor<String, LockEntry, Outcome>, DataSerializable {
        private static final long serialVersionUID = 1L;

        @Override
        public @Nullable Outcome process(Map.Entry<String, LockEntry> entry) {
            if (read(entry) instanceof LockEntry stored && stored.held()) {
                if (!stored.queue().isEmpty()) {
                    return new Outcome(Status.HELD, stored, null, 0);
                }
                store(entry, endUnqueued(stored));
            }
            return null;
        }

        @Override
        public EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return this;
        }

        @Override
        public void writeData(ObjectDataOutput out) {}

        @Override
        public void readData(ObjectDataInput in) {}
    }

    /**
     * Rolls back a key this call took: ends its lock ({@link #end}) if it still carries the token it was
     * given. The token stays spent: the next holder gets a higher one (from the stored token while a free
     * entry keeps it, from the member's {@link #tokenClock()} otherwise).
     */
    static final class Undo extends Mutating {
        private static final long serialVersionUID = 2L;

        private long token;

        /** For Hazelcast. */
        Undo() {}

        Undo(long token) {
            this.token = token;
        }

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            if (stored == null || !stored.held() || stored.token() != token) {
                return Outcome.of(Status.NOT_DONE);
            }
            put(entry, end(stored, System.currentTimeMillis()));
            return Outcome.of(Status.DONE);
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(token);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            token = in.readLong();
        }
    }

    /** Rolls back a re-entry this call made: puts the previous expiry back if the lock is unchanged. */
    static final class Restore extends Mutating {
        private static final long serialVersionUID = 2L;

        private LockEntry previous = LockEntry.free(0);

        /** For Hazelcast. */
        Restore() {}

        Restore(LockEntry previous) {
            this.previous = previous;
        }

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            if (stored == null || !stored.held() || stored.token() != previous.token()
                    || !Objects.equals(stored.owner(), previous.owner())) {
                return Outcome.of(Status.NOT_DONE);
            }
            // The previous expiry on the lock as it is now: its waited-for mark and its queue may have changed.
            long now = System.currentTimeMillis();
            put(entry, previous.expired(now) ? end(stored, now) : stored.withExpiresAt(previous.expiresAt()));
            return Outcome.of(Status.DONE);
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            previous.writeData(out);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            LockEntry read = new LockEntry();
            read.readData(in);
            previous = read;
        }
    }

    /**
     * What a waiter runs on the keys it waits for: reports each key's lock like {@link Inspect}, and marks a
     * held entry as waited for, so that its release sends an event (see {@link LockEntry#waited()}). The mark
     * is set on any held entry, lapsed or not, without looking at the clock; so the processor is its own
     * backup processor (it runs on several keys in one call, where Hazelcast sends one backup processor for
     * all of them) and the replicas end up with the same entries.
     */
    static final class Watch extends Step {
        private static final long serialVersionUID = 1L;

        private transient boolean marked;

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            if (stored != null && stored.held() && !stored.waited()) {
                store(entry, stored.withWaited(true));
                marked = true;
            }
            long now = System.currentTimeMillis();
            if (stored != null && stored.heldAt(now)) {
                return Outcome.of(Status.HELD, stored, now);
            }
            // Free, but an owner queues for it and will take it: busy until that owner's entry lapses at the latest.
            OwnerQueue.Entry next = stored == null ? null : stored.queue().live(now).head();
            return next == null ? Outcome.of(Status.FREE)
                    : new Outcome(Status.HELD, stored, null, Math.max(1, next.lapsesAt() - now));
        }

        @Override
        public @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return marked ? this : null;
        }

        @Override
        public void writeData(ObjectDataOutput out) {}

        @Override
        public void readData(ObjectDataInput in) {}
    }

    /** Reports the lock on a key without changing it. */
    static final class Inspect extends Step implements ReadOnly {
        private static final long serialVersionUID = 1L;

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            long now = System.currentTimeMillis();
            LockEntry current = live(stored, now);
            return current == null ? Outcome.of(Status.FREE) : Outcome.of(Status.HELD, current, now);
        }

        @Override
        public @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return null;
        }

        @Override
        public void writeData(ObjectDataOutput out) {}

        @Override
        public void readData(ObjectDataInput in) {}
    }

    /**
     * Applies on a backup replica exactly what the primary stored, or removed, at each key it changed; a key
     * the primary left alone (a conflict among the keys of one call) is left alone here too.
     */
    static final class Apply implements EntryProcessor<String, LockEntry, Outcome>, DataSerializable {
        private static final long serialVersionUID = 3L;

        /** What the primary stored at one key: a lock entry, or {@code null} for a removed entry. */
        record Change(@Nullable LockEntry value) {}

        private Map<String, Change> changes = Map.of();

        /** For Hazelcast. */
        Apply() {}

        Apply(Map<String, Change> changes) {
            this.changes = changes;
        }

        @Override
        public @Nullable Outcome process(Map.Entry<String, LockEntry> entry) {
            Change change = changes.get(entry.getKey());
            if (change != null) {
                store(entry, change.value());
            }
            return null;
        }

        @Override
        public @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return null;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeInt(changes.size());
            for (Map.Entry<String, Change> change : changes.entrySet()) {
                out.writeString(change.getKey());
                LockEntry.writeNullable(out, change.getValue().value());
            }
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            int size = in.readInt();
            Map<String, Change> read = new HashMap<>(Math.max(4, size * 2));
            for (int i = 0; i < size; i++) {
                read.put(Objects.requireNonNull(in.readString(), "key"), new Change(LockEntry.readNullable(in)));
            }
            changes = read;
        }
    }
}
