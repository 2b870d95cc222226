package dev.locking.hazelcast;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The owners queued for a key, stored inside its {@link LockEntry}: in the order they came
 * ({@code acquireOrQueue}), each with the lease it gets when the key is handed to it, the stay it asked for,
 * and the moment its entry lapses unless the owner calls again (member time, milliseconds since the epoch).
 * A lapsed entry is skipped by the next hand-off, and dropped by any step that looks at the queue.
 *
 * <p>Immutable: every change returns a new queue. Written inside the entry's data (see
 * {@link LockEntry#writeData}), so only members and clients of the same version read it.
 *
 * <p>Concurrency: immutable, safe to share.
 */
final class OwnerQueue {

    /** One owner waiting for the key. */
    record Entry(String owner, long leaseMillis, long stayMillis, long lapsesAt) {

        /** Whether the entry has lapsed at {@code now}. */
        boolean lapsed(long now) {
            return now >= lapsesAt;
        }

        /**
         * The lease of the key when it is handed to this owner: its lease, but no longer than its stay, so an
         * owner that died while queued blocks the key for at most that long (the core renews a granted key).
         */
        long grantMillis() {
            return Math.min(leaseMillis, stayMillis);
        }
    }

    /** No owner queued. */
    static final OwnerQueue EMPTY = new OwnerQueue(List.of());

    /** The largest queue a key may hold: a bound on the stored entry, far above any sane contention. */
    static final int MAX_SIZE = 4096;

    private final List<Entry> entries;

    private OwnerQueue(List<Entry> entries) {
        this.entries = entries;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    int size() {
        return entries.size();
    }

    /** The first entry, or {@code null} when the queue is empty. */
    @Nullable Entry head() {
        return entries.isEmpty() ? null : entries.get(0);
    }

    /** The queue without its first entry. */
    OwnerQueue withoutHead() {
        return entries.size() <= 1 ? EMPTY : new OwnerQueue(List.copyOf(entries.subList(1, entries.size())));
    }

    /** The entries that have not lapsed at {@code now}, in order ({@code this} when none lapsed). */
    OwnerQueue live(long now) {
        int lapsed = 0;
        for (Entry e : entries) {
            lapsed += e.lapsed(now) ? 1 : 0;
        }
        if (lapsed == 0) {
            return this;
        }
        List<Entry> kept = new ArrayList<>(entries.size() - lapsed);
        for (Entry e : entries) {
            if (!e.lapsed(now)) {
                kept.add(e);
            }
        }
        return of(kept);
    }

    /**
     * Whether a free key may be taken by this owner: nobody else queues before it. A live queue is expected
     * ({@link #live}); an anonymous caller ({@code null}) may take it only when the queue is empty.
     */
    boolean mayTake(@Nullable String owner) {
        Entry head = head();
        return head == null || head.owner().equals(owner);
    }

    /** The queue without the owner's entry ({@code this} when it has none). */
    OwnerQueue without(@Nullable String owner) {
        int at = indexOf(owner);
        if (at < 0) {
            return this;
        }
        List<Entry> kept = new ArrayList<>(entries);
        kept.remove(at);
        return of(kept);
    }

    /**
     * The owner's entry renewed where it stands (a new lapse, lease and stay), or added at the end; a queue
     * that already holds {@link #MAX_SIZE} owners stays as it is (the owner is queued by a later call, once
     * the queue is shorter).
     */
    OwnerQueue refreshed(String owner, long leaseMillis, long stayMillis, long now) {
        Entry entry = new Entry(owner, leaseMillis, stayMillis, saturatedSum(now, stayMillis));
        List<Entry> changed = new ArrayList<>(entries.size() + 1);
        changed.addAll(entries);
        int at = indexOf(owner);
        if (at >= 0) {
            changed.set(at, entry);
        } else if (entries.size() >= MAX_SIZE) {
            return this;
        } else {
            changed.add(entry);
        }
        return of(changed);
    }

    /** The last moment an entry lapses, or 0 for an empty queue. */
    long lastLapse() {
        long last = 0;
        for (Entry e : entries) {
            last = Math.max(last, e.lapsesAt());
        }
        return last;
    }

    /** {@code a + b} for non-negative values, at most {@link Long#MAX_VALUE}. */
    static long saturatedSum(long a, long b) {
        long sum = a + b;
        return sum < a ? Long.MAX_VALUE : sum;
    }

    private int indexOf(@Nullable String owner) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).owner().equals(owner)) {
                return i;
            }
        }
        return -1;
    }

    private static OwnerQueue of(List<Entry> entries) {
        return entries.isEmpty() ? EMPTY : new OwnerQueue(List.copyOf(entries));
    }

    void writeData(ObjectDataOutput out) throws IOException {
        out.writeInt(entries.size());
        for (Entry e : entries) {
            out.writeString(e.owner());
            out.writeLong(e.leaseMillis());
            out.writeLong(e.stayMillis());
            out.writeLong(e.lapsesAt());
        }
    }

    /**
     * Reads what {@link #writeData} wrote.
     *
     * @throws IOException when the size or an owner is not what this version writes (data of another shape)
     */
    static OwnerQueue readData(ObjectDataInput in) throws IOException {
        int size = in.readInt();
        if (size == 0) {
            return EMPTY;
        }
        if (size < 0 || size > MAX_SIZE) {
            throw new IOException("not a queue of owners: size " + size);
        }
        List<Entry> read = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            String owner = in.readString();
            if (owner == null) {
                throw new IOException("not a queue of owners: an entry without an owner");
            }
            read.add(new Entry(owner, in.readLong(), in.readLong(), in.readLong()));
        }
        return new OwnerQueue(List.copyOf(read));
    }

    @Override
    public boolean equals(@Nullable Object other) {
        return other instanceof OwnerQueue that && entries.equals(that.entries);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(entries);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("[");
        for (Entry e : entries) {
            s.append(s.length() > 1 ? ", " : "").append(e.owner()).append(" until ").append(e.lapsesAt());
        }
        return s.append(']').toString();
    }
}
