package dev.locking.hazelcast;

import com.hazelcast.core.ReadOnly;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import dev.locking.hazelcast.Outcome.Status;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
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
 *   <li>Never remove an entry: a released key becomes a free entry that keeps its last token (see
 *       {@link LockEntry}), so the fencing counter is the entry itself and an acquire needs no other map.</li>
 *   <li>Never re-run the decision on a backup replica: a processor that changed the entry hands its
 *       backups an {@link Apply} with the exact result, so a backup taken over after a member loss holds
 *       what the primary held (token included), whatever its clock says. The one exception is
 *       {@link ReleaseEvery}, which runs on whole partitions and decides without the clock.</li>
 *   <li>Store every entry without TTL: Hazelcast must never drop an entry, or its token would be lost.</li>
 * </ul>
 */
final class LockProcessors {

    private LockProcessors() {}

    /** Reads the entry's lock, or {@code null} when the key is free (no entry, a free entry, a lapsed lease). */
    static @Nullable LockEntry live(Map.Entry<String, LockEntry> entry, long now) {
        LockEntry current = entry.getValue();
        return current == null || !current.heldAt(now) ? null : current;
    }

    /**
     * Stores a value without TTL. The explicit TTL of 0 (never) also overrides a default TTL the map's
     * configuration may have, which would otherwise drop free entries and their tokens.
     */
    static void store(Map.Entry<String, LockEntry> entry, LockEntry value) {
        if (entry instanceof ExtendedMapEntry) {
            @SuppressWarnings("unchecked")
            ExtendedMapEntry<String, LockEntry> extended = (ExtendedMapEntry<String, LockEntry>) entry;
            extended.setValue(value, 0, TimeUnit.MILLISECONDS);
        } else {
            entry.setValue(value);
        }
    }

    /**
     * Base of the processors that may change the entry: it records the change so that the backups
     * apply exactly that. Processors are {@link DataSerializable}: their fields travel after the class
     * name, and members create them with the no-argument constructor (fields are therefore not final).
     */
    abstract static class Mutating implements EntryProcessor<String, LockEntry, Outcome>, DataSerializable {
        private static final long serialVersionUID = 1L;

        private transient @Nullable Apply backup;

        final void put(Map.Entry<String, LockEntry> entry, LockEntry value) {
            store(entry, value);
            backup = new Apply(value);
        }

        @Override
        public final @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return backup;
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
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            long now = System.currentTimeMillis();
            LockEntry stored = entry.getValue();
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
            LockEntry taken = LockEntry.held(owner, stored == null ? 1 : stored.nextToken(),
                    leaseMillis == 0 ? LockEntry.NEVER : now + leaseMillis, nonce);
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
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            long now = System.currentTimeMillis();
            LockEntry current = live(entry, now);
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
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored == null || !stored.held()) {
                return Outcome.of(Status.NOT_DONE);
            }
            if (stored.expired(System.currentTimeMillis())) {
                put(entry, stored.freed());
                return Outcome.of(Status.NOT_DONE);
            }
            if (stored.ownedBy(owner) || (anyHolder && stored.owner() == null)) {
                put(entry, stored.freed());
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
     * Turns every held entry free, lapsed or not: {@code releaseAll()} runs it on every entry of the map.
     * It runs on whole partitions, where Hazelcast sends one backup processor for the partition, not one
     * per entry; so it is its own backup processor, and decides without the clock (a replica holds the
     * same entries as its primary, so it frees the same ones).
     */
    static final class ReleaseEvery implements EntryProcessor<String, LockEntry, Outcome>, DataSerializable {
        private static final long serialVersionUID = 1L;

        @Override
        public @Nullable Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored != null && stored.held()) {
                store(entry, stored.freed());
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
     * Rolls back a key this call took: frees it if it still carries the token it was given. The token
     * stays spent: the next holder gets a higher one.
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
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored == null || !stored.held() || stored.token() != token) {
                return Outcome.of(Status.NOT_DONE);
            }
            put(entry, stored.freed());
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
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored == null || !stored.held() || stored.token() != previous.token()
                    || !Objects.equals(stored.owner(), previous.owner())) {
                return Outcome.of(Status.NOT_DONE);
            }
            put(entry, previous.expired(System.currentTimeMillis()) ? stored.freed()
                    : previous.withWaited(stored.waited()));
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
    static final class Watch implements EntryProcessor<String, LockEntry, Outcome>, DataSerializable {
        private static final long serialVersionUID = 1L;

        private transient boolean marked;

        @Override
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored != null && stored.held() && !stored.waited()) {
                store(entry, stored.withWaited(true));
                marked = true;
            }
            long now = System.currentTimeMillis();
            return stored == null || !stored.heldAt(now) ? Outcome.of(Status.FREE)
                    : Outcome.of(Status.HELD, stored, now);
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
    static final class Inspect implements EntryProcessor<String, LockEntry, Outcome>, ReadOnly, DataSerializable {
        private static final long serialVersionUID = 1L;

        @Override
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            long now = System.currentTimeMillis();
            LockEntry current = live(entry, now);
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

    /** Applies on a backup replica exactly what the primary stored. */
    static final class Apply implements EntryProcessor<String, LockEntry, Outcome>, DataSerializable {
        private static final long serialVersionUID = 2L;

        private LockEntry value = LockEntry.free(0);

        /** For Hazelcast. */
        Apply() {}

        Apply(LockEntry value) {
            this.value = value;
        }

        @Override
        public @Nullable Outcome process(Map.Entry<String, LockEntry> entry) {
            store(entry, value);
            return null;
        }

        @Override
        public @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return null;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            value.writeData(out);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            LockEntry read = new LockEntry();
            read.readData(in);
            value = read;
        }
    }
}
