package dev.locking.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.Offloadable;
import com.hazelcast.core.ReadOnly;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import dev.locking.hazelcast.Outcome.Status;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The entry processors that run on the members: each is one atomic step on one key, on the member that
 * owns the key's partition (on its partition thread, or for {@link Acquire} on its offloadable executor
 * while the key is locked).
 *
 * <h2>Rules every processor here follows</h2>
 * <ul>
 *   <li>Depend on Hazelcast and the JDK only: members load these classes from this jar alone.</li>
 *   <li>Decide with the member's clock ({@link System#currentTimeMillis()}): an entry whose
 *       {@link LockEntry#expiresAt()} has passed is free, even if Hazelcast has not removed it yet.</li>
 *   <li>Never re-run the decision on a backup replica: a processor that changed the entry hands its
 *       backups an {@link Apply} with the exact result (value and TTL), so a backup taken over after a
 *       member loss holds what the primary held, whatever its clock says.</li>
 *   <li>The lease (plus {@link #TTL_SLACK_MILLIS}) is the entry's TTL; a lock without a lease gets TTL 0
 *       (never expires).</li>
 * </ul>
 *
 * <h2>Fencing tokens</h2>
 * A token comes from a counter map without TTL (the <i>fencing map</i>), keyed like the lock map. A
 * release or an expiry removes the lock entry but never its counter, so tokens keep increasing.
 * {@link Acquire} bumps the counter from inside its own step: it is {@link Offloadable}, so Hazelcast
 * locks the key in the lock map, runs {@code process} on its offloadable executor (where it may call
 * the counter map like any client) and then writes the result and unlocks the key on the partition
 * thread. Every other mutating processor on that key waits for the key lock, so the step stays atomic;
 * and no partition thread ever blocks on the counter's backups (a partition thread that waited for a
 * backup ack from a member whose partition thread waited on it in turn would stall both for the backup
 * timeout).
 */
final class LockProcessors {

    /** How much longer than the lease an entry's TTL is; see {@link #store}. */
    static final long TTL_SLACK_MILLIS = 2000;

    private LockProcessors() {}

    /** Reads the entry's lock, or {@code null} when there is none or its lease has lapsed. */
    static @Nullable LockEntry live(Map.Entry<String, LockEntry> entry, long now) {
        LockEntry current = entry.getValue();
        return current == null || current.expired(now) ? null : current;
    }

    /**
     * Sets a lock with its lease as TTL (0: never expires). Hazelcast keeps a record's update time in whole
     * seconds, so a TTL can run out up to a second early; the TTL therefore gets {@link #TTL_SLACK_MILLIS}
     * more. Hazelcast must never drop a lock before its {@link LockEntry#expiresAt()}, which is what
     * decides (a lapsed entry still present counts as free).
     */
    static void store(Map.Entry<String, LockEntry> entry, LockEntry value, long ttlMillis) {
        if (entry instanceof ExtendedMapEntry) {
            @SuppressWarnings("unchecked")
            ExtendedMapEntry<String, LockEntry> extended = (ExtendedMapEntry<String, LockEntry>) entry;
            extended.setValue(value, ttlMillis == 0 ? 0 : ttlMillis + TTL_SLACK_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            entry.setValue(value);
        }
    }

    /** The TTL that makes an entry lapse at its {@code expiresAt}; 0 for never. */
    static long ttlFor(LockEntry value, long now) {
        return value.expiresAt() == LockEntry.NEVER ? 0 : Math.max(1, value.expiresAt() - now);
    }

    /**
     * Base of the processors that may change the entry: it records the change so that the backups
     * apply exactly that.
     */
    abstract static class Mutating implements EntryProcessor<String, LockEntry, Outcome> {
        private static final long serialVersionUID = 1L;

        private transient @Nullable Apply backup;

        final void put(Map.Entry<String, LockEntry> entry, LockEntry value, long ttlMillis) {
            store(entry, value, ttlMillis);
            backup = new Apply(value, ttlMillis);
        }

        final void remove(Map.Entry<String, LockEntry> entry) {
            entry.setValue(null);
            backup = new Apply(null, 0);
        }

        @Override
        public final @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return backup;
        }
    }

    /** Takes a key for an owner, or re-enters it, or reports the holder. */
    static final class Acquire extends Mutating implements HazelcastInstanceAware, Offloadable {
        private static final long serialVersionUID = 1L;

        private final @Nullable String owner;
        private final long leaseMillis;
        private final String fencingMap;
        private transient @Nullable HazelcastInstance hazelcast;

        /**
         * @param owner       the owner, or {@code null} for an anonymous lock
         * @param leaseMillis the lease, or 0 for none
         * @param fencingMap  the name of the counter map
         */
        Acquire(@Nullable String owner, long leaseMillis, String fencingMap) {
            this.owner = owner;
            this.leaseMillis = leaseMillis;
            this.fencingMap = fencingMap;
        }

        @Override
        public void setHazelcastInstance(HazelcastInstance instance) {
            this.hazelcast = instance;
        }

        @Override
        public String getExecutorName() {
            return OFFLOADABLE_EXECUTOR;
        }

        @Override
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            long now = System.currentTimeMillis();
            LockEntry current = live(entry, now);
            if (current != null) {
                if (!current.ownedBy(owner)) {
                    return Outcome.of(Status.CONFLICT, current, now);
                }
                if (leaseMillis == 0) {
                    return new Outcome(Status.REENTERED, current, current, current.remainingMillis(now));
                }
                LockEntry renewed = current.withExpiresAt(now + leaseMillis);
                put(entry, renewed, leaseMillis);
                return new Outcome(Status.REENTERED, renewed, current, leaseMillis);
            }
            LockEntry taken = new LockEntry(owner, nextToken(entry.getKey()),
                    leaseMillis == 0 ? LockEntry.NEVER : now + leaseMillis);
            put(entry, taken, leaseMillis);
            return Outcome.of(Status.TAKEN, taken, now);
        }

        private long nextToken(String key) {
            HazelcastInstance instance = hazelcast;
            if (instance == null) {
                throw new IllegalStateException("Hazelcast did not inject its instance into " + getClass().getName());
            }
            IMap<String, Long> counters = instance.getMap(fencingMap);
            Long token = counters.executeOnKey(key, new NextToken());
            return Objects.requireNonNull(token, "token");
        }
    }

    /** Resets the lease of a key the owner holds. */
    static final class Extend extends Mutating {
        private static final long serialVersionUID = 1L;

        private final String owner;
        private final long leaseMillis;

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
            put(entry, renewed, leaseMillis);
            return Outcome.of(Status.DONE, renewed, now);
        }
    }

    /** Releases a key held anonymously or by the given owner. */
    static final class Release extends Mutating {
        private static final long serialVersionUID = 1L;

        private final @Nullable String owner;

        Release(@Nullable String owner) {
            this.owner = owner;
        }

        @Override
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored == null) {
                return Outcome.of(Status.NOT_DONE);
            }
            if (stored.expired(System.currentTimeMillis())) {
                // Not held any more; removing it now wakes waiters before Hazelcast's expiry would.
                remove(entry);
                return Outcome.of(Status.NOT_DONE);
            }
            if (stored.owner() == null || stored.ownedBy(owner)) {
                remove(entry);
                return Outcome.of(Status.DONE);
            }
            return Outcome.of(Status.NOT_DONE);
        }
    }

    /**
     * Releases a key only if the given owner holds it: what {@code releaseAll(owner)} runs on each key its
     * index lookup found (the key may have changed hands since; an anonymous lock is then left alone).
     */
    static final class ReleaseOwned extends Mutating {
        private static final long serialVersionUID = 1L;

        private final String owner;

        ReleaseOwned(String owner) {
            this.owner = owner;
        }

        @Override
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored == null) {
                return Outcome.of(Status.NOT_DONE);
            }
            if (stored.expired(System.currentTimeMillis())) {
                remove(entry);
                return Outcome.of(Status.NOT_DONE);
            }
            if (stored.ownedBy(owner)) {
                remove(entry);
                return Outcome.of(Status.DONE);
            }
            return Outcome.of(Status.NOT_DONE);
        }
    }

    /** Rolls back a key this call took: removes it if it still carries the token it was given. */
    static final class Undo extends Mutating {
        private static final long serialVersionUID = 1L;

        private final long token;

        Undo(long token) {
            this.token = token;
        }

        @Override
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            LockEntry stored = entry.getValue();
            if (stored == null || stored.token() != token) {
                return Outcome.of(Status.NOT_DONE);
            }
            remove(entry);
            return Outcome.of(Status.DONE);
        }
    }

    /** Rolls back a re-entry this call made: puts the previous expiry back if the lock is unchanged. */
    static final class Restore extends Mutating {
        private static final long serialVersionUID = 1L;

        private final LockEntry previous;

        Restore(LockEntry previous) {
            this.previous = previous;
        }

        @Override
        public Outcome process(Map.Entry<String, LockEntry> entry) {
            long now = System.currentTimeMillis();
            LockEntry stored = entry.getValue();
            if (stored == null || stored.token() != previous.token()
                    || !Objects.equals(stored.owner(), previous.owner())) {
                return Outcome.of(Status.NOT_DONE);
            }
            if (previous.expired(now)) {
                remove(entry);
            } else {
                put(entry, previous, ttlFor(previous, now));
            }
            return Outcome.of(Status.DONE);
        }
    }

    /** Reports the lock on a key without changing it. */
    static final class Inspect implements EntryProcessor<String, LockEntry, Outcome>, ReadOnly {
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
    }

    /** Applies on a backup replica exactly what the primary did. */
    static final class Apply implements EntryProcessor<String, LockEntry, Outcome> {
        private static final long serialVersionUID = 1L;

        private final @Nullable LockEntry value;
        private final long ttlMillis;

        /**
         * @param value     the new value, or {@code null} to remove the entry
         * @param ttlMillis its TTL, 0 for none
         */
        Apply(@Nullable LockEntry value, long ttlMillis) {
            this.value = value;
            this.ttlMillis = ttlMillis;
        }

        @Override
        public @Nullable Outcome process(Map.Entry<String, LockEntry> entry) {
            if (value == null) {
                entry.setValue(null);
            } else {
                store(entry, value, ttlMillis);
            }
            return null;
        }

        @Override
        public @Nullable EntryProcessor<String, LockEntry, Outcome> getBackupProcessor() {
            return null;
        }
    }

    /** Increments a key's fencing counter in the fencing map and returns the new value. */
    static final class NextToken implements EntryProcessor<String, Long, Long> {
        private static final long serialVersionUID = 1L;

        private transient long issued;

        @Override
        public Long process(Map.Entry<String, Long> entry) {
            Long current = entry.getValue();
            long next = (current == null ? 0L : current) + 1;
            entry.setValue(next);
            issued = next;
            return next;
        }

        @Override
        public @Nullable EntryProcessor<String, Long, Long> getBackupProcessor() {
            return issued == 0 ? null : new TokenAtLeast(issued);
        }
    }

    /** Raises a backup counter to at least the value the primary issued. */
    static final class TokenAtLeast implements EntryProcessor<String, Long, Long> {
        private static final long serialVersionUID = 1L;

        private final long value;

        TokenAtLeast(long value) {
            this.value = value;
        }

        @Override
        public Long process(Map.Entry<String, Long> entry) {
            Long current = entry.getValue();
            if (current == null || current < value) {
                entry.setValue(value);
                return value;
            }
            return current;
        }

        @Override
        public @Nullable EntryProcessor<String, Long, Long> getBackupProcessor() {
            return null;
        }
    }
}
