package dev.locking.memory;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The lock stripes of a {@link LockTable}: a fixed array of {@link ReentrantLock}s, each guarding the
 * records of the keys that hash to it. There is no global lock; a call on several keys locks their
 * distinct stripes in ascending index order, so two calls can never wait on each other in a cycle.
 *
 * <p>Concurrency: the array is final and filled in the constructor; what each lock guards is described in
 * {@link LockTable}. The static helpers are pure.
 */
final class Stripes {

    /** Number of stripes; a power of two. */
    static final int COUNT = 1024;

    private static final int[] ALL = allIndexes();

    private final ReentrantLock[] locks = new ReentrantLock[COUNT];

    Stripes() {
        for (int i = 0; i < COUNT; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    /** The stripe of a key. */
    static int index(String key) {
        int h = key.hashCode();
        return (h ^ (h >>> 16)) & (COUNT - 1);
    }

    /** The distinct stripe indexes of some keys, ascending. */
    static int[] of(List<String> keys) {
        int n = keys.size();
        int[] set = new int[n];
        for (int i = 0; i < n; i++) {
            set[i] = index(keys.get(i));
        }
        if (n < 2) {
            return set;
        }
        Arrays.sort(set);
        int distinct = 1;
        for (int i = 1; i < n; i++) {
            if (set[i] != set[distinct - 1]) {
                set[distinct++] = set[i];
            }
        }
        return distinct == n ? set : Arrays.copyOf(set, distinct);
    }

    /** Every stripe index, ascending. The array is shared: do not change it. */
    static int[] all() {
        return ALL;
    }

    /** Whether the (sorted) stripe set holds the stripe of every key. */
    static boolean covers(int[] set, String[] keys) {
        for (String key : keys) {
            if (Arrays.binarySearch(set, index(key)) < 0) {
                return false;
            }
        }
        return true;
    }

    /** The lock of a key's stripe. */
    ReentrantLock of(String key) {
        return locks[index(key)];
    }

    /** Locks the given stripes in ascending order (the caller passes them sorted, as {@link #of} gives). */
    void lock(int[] set) {
        for (int index : set) {
            locks[index].lock();
        }
    }

    /** Unlocks what {@link #lock} locked, in reverse order. */
    void unlock(int[] set) {
        for (int i = set.length - 1; i >= 0; i--) {
            locks[set[i]].unlock();
        }
    }

    private static int[] allIndexes() {
        int[] set = new int[COUNT];
        for (int i = 0; i < COUNT; i++) {
            set[i] = i;
        }
        return set;
    }
}
