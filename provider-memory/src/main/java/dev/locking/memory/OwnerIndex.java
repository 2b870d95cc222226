package dev.locking.memory;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.HashSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * Which keys each owner holds in a {@link LockTable}, so that {@code releaseAll(owner)} costs what that
 * owner holds, not what the whole table holds. An owner is present only while it holds at least one key.
 *
 * <p>Concurrency: the map is a {@link ConcurrentHashMap}; each owner's {@link OwnedKeys} has its own
 * monitor, a leaf lock (taken with one or more stripes held, never the other way round), because one
 * owner's keys live in many stripes. An emptied entry is retired and removed from the map inside its
 * monitor, so an adder that finds it retired (it read the map just before) looks again. The table calls
 * {@link #add} and {@link #remove} with the key's stripe held, which keeps "a key is in the index of
 * owner o iff its record names o".
 */
final class OwnerIndex {

    private final ConcurrentHashMap<String, OwnedKeys> owners = new ConcurrentHashMap<>();

    /** Records that the owner now holds the key. */
    void add(String ownerId, String key) {
        while (true) {
            OwnedKeys owned = owners.get(ownerId);
            if (owned == null) {
                if (owners.putIfAbsent(ownerId, new OwnedKeys(key)) == null) {
                    return;
                }
            } else if (owned.add(key)) {
                return;
            }
            // Lost a race with a concurrent add or with the retirement of an emptied entry: look again.
        }
    }

    /** Records that the owner no longer holds the key; the owner leaves the index with its last key. */
    void remove(String ownerId, String key) {
        OwnedKeys owned = owners.get(ownerId);
        if (owned != null) {
            owned.remove(ownerId, key, owners);
        }
    }

    /** The keys the owner holds now (a copy), or null if it holds none. */
    String @Nullable [] keysOf(String ownerId) {
        OwnedKeys owned = owners.get(ownerId);
        return owned == null ? null : owned.snapshot();
    }

    /** The number of owners that hold a key. */
    int size() {
        return owners.size();
    }

    /** Forgets every owner; the caller holds every stripe. */
    void clear() {
        owners.clear();
    }

    /** The keys of one owner: one key without a set (the common case), or a set. */
    private static final class OwnedKeys {
        @GuardedBy("this")
        private @Nullable String single;
        @GuardedBy("this")
        private @Nullable HashSet<String> many;
        @GuardedBy("this")
        private boolean retired;

        OwnedKeys(String first) {
            this.single = first;
        }

        /** Adds a key; false if this entry was retired (and is leaving the index) meanwhile. */
        synchronized boolean add(String key) {
            if (retired) {
                return false;
            }
            HashSet<String> set = many;
            if (set != null) {
                set.add(key);
            } else if (single == null) {
                single = key;
            } else {
                set = new HashSet<>();
                set.add(single);
                set.add(key);
                many = set;
                single = null;
            }
            return true;
        }

        /**
         * Removes a key; with the last one this entry retires and leaves the index, inside this monitor, so
         * an adder never finds a retired entry still in the index.
         */
        synchronized void remove(String ownerId, String key, ConcurrentHashMap<String, OwnedKeys> index) {
            HashSet<String> set = many;
            boolean empty;
            if (set != null) {
                set.remove(key);
                empty = set.isEmpty();
            } else {
                if (key.equals(single)) {
                    single = null;
                }
                empty = single == null;
            }
            if (empty) {
                retired = true;
                index.remove(ownerId, this);
            }
        }

        synchronized String[] snapshot() {
            HashSet<String> set = many;
            if (set != null) {
                return set.toArray(new String[0]);
            }
            return single == null ? new String[0] : new String[] {single};
        }
    }
}
