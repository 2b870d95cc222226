package dev.locking.hazelcast;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import java.io.IOException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The value stored under a key in the lock map: a lock (held, or lapsed) with its fencing token, or a free
 * entry left for the waiters of a lock just released.
 *
 * <p>An entry exists only while its key is locked: an acquire creates it, and a release, a rollback or
 * {@code releaseAll} removes it, unless a waiter marked the lock, in which case it becomes a <i>free</i>
 * entry for {@link #ENDED_LOCK_TTL_MILLIS} (its update is the event that wakes the waiters). A lapsed lease
 * leaves a held entry whose {@code expiresAt} has passed, which counts as free; every entry carries a TTL
 * ({@link #ttlMillis}), so Hazelcast drops such an entry a few seconds after its lease even if nobody
 * touches the key again. While an entry exists, the next acquire gives at least the token after the stored
 * one; without one, the token comes from the member's clock ({@code LockProcessors.tokenClock}), strictly
 * increasing per member. So no key needs a counter that lives for ever, and tokens still strictly
 * increase per key, also when the whole cluster lost its data, as long as the clock of the member that
 * grants a key is not behind the clock that granted its previous token by more than the time in between.
 *
 * <p>A lock can be marked <i>waited for</i> by a waiter; releasing it then leaves a free entry that is
 * still marked, and only such an update makes members send an event to the providers' listeners. A
 * release that nobody waits for sends nothing.
 *
 * <p>The entry also carries the {@link OwnerQueue} of owners waiting for the key ({@code acquireOrQueue}).
 * When the lock ends while a live owner queues, the entry becomes that owner's lock at once
 * ({@link #handedTo}), marked {@link #granted()} for the one update that tells the owner's JVM.
 *
 * <p>Times are milliseconds since the epoch on the clock of the member that owns the key's partition:
 * every decision about a lapsed lease is taken there, by an entry processor, so clients' clocks do not
 * matter.
 *
 * <p>Hazelcast serializes it as a {@link DataSerializable} (its fields, after the class name), much cheaper
 * than Java serialization and with nothing to register: members only need this jar. The fields are not
 * final because Hazelcast fills them in after calling the no-argument constructor; no code changes an entry
 * after that. The {@code owner} field is indexed, so {@code releaseAll(owner)} is an index lookup, not a
 * scan; a free entry has no owner, so it is never found by owner.
 */
final class LockEntry implements DataSerializable {

    /** {@link #expiresAt} of a lock taken without a lease. */
    static final long NEVER = 0L;

    /**
     * The TTL of an entry whose lock ended but that is not removed at once: a free entry left for waiters, or
     * a lapsed lock nobody touched (Hazelcast's TTL drops both this long after the end). While it stays, it
     * keeps the key's last token, so the next token is above it whatever the clock says.
     */
    static final long ENDED_LOCK_TTL_MILLIS = 5_000;

    private static final byte HELD = 1;
    private static final byte WAITED = 2;
    private static final byte GRANTED = 4;

    private @Nullable String owner;
    private long token;
    private long expiresAt;
    private boolean held;
    private boolean waited;
    /** Whether the step that wrote this entry handed the lock to its owner from the queue. */
    private boolean granted;
    /** The nonce of the acquire call that took this lock (0 for none, and for a free entry). */
    private long nonce;
    private OwnerQueue queue = OwnerQueue.EMPTY;

    /** For Hazelcast, which then calls {@link #readData}. */
    LockEntry() {}

    private LockEntry(@Nullable String owner, long token, long expiresAt, boolean held, boolean waited, long nonce,
            OwnerQueue queue, boolean granted) {
        this.owner = owner;
        this.token = token;
        this.expiresAt = expiresAt;
        this.held = held;
        this.waited = waited;
        this.nonce = nonce;
        this.queue = queue;
        this.granted = granted;
    }

    /**
     * A lock.
     *
     * @param owner     the owner, or {@code null} for an anonymous lock
     * @param token     its fencing token
     * @param expiresAt when its lease lapses, or {@link #NEVER}
     */
    static LockEntry held(@Nullable String owner, long token, long expiresAt) {
        return held(owner, token, expiresAt, 0);
    }

    /**
     * A lock taken by the acquire call with this nonce; a step of that call sent again (after an interrupt)
     * recognises the lock as the call's own ({@code LockProcessors.Acquire}).
     */
    static LockEntry held(@Nullable String owner, long token, long expiresAt, long nonce) {
        return new LockEntry(owner, token, expiresAt, true, false, nonce, OwnerQueue.EMPTY, false);
    }

    /** A free entry that remembers the key's last token. */
    static LockEntry free(long token) {
        return new LockEntry(null, token, NEVER, false, false, 0, OwnerQueue.EMPTY, false);
    }

    /** The owner, or {@code null} for an anonymous lock and for a free entry. */
    @Nullable String owner() {
        return owner;
    }

    /** The fencing token of the lock, or for a free entry the last token given for the key. */
    long token() {
        return token;
    }

    /** When the lease lapses, or {@link #NEVER} (also for a free entry). */
    long expiresAt() {
        return expiresAt;
    }

    /** The nonce of the acquire call that took this lock, or 0. */
    long nonce() {
        return nonce;
    }

    /** Whether this is a lock (possibly lapsed) rather than a free entry. */
    boolean held() {
        return held;
    }

    /**
     * For a lock: whether someone waits for it (a waiter marked it, see {@code LockProcessors.Watch}). For a
     * free entry: whether it was released while someone waited, which is what makes members send the
     * release event (see {@link ReleaseListener.Freed}).
     */
    boolean waited() {
        return waited;
    }

    /** Whether this is a free entry released while someone waited: the entries that wake waiters. */
    boolean wakesWaiters() {
        return !held && waited;
    }

    /** Whether this is a lock whose lease has not lapsed at {@code now}. */
    boolean heldAt(long now) {
        return held && !expired(now);
    }

    /** Whether the lease has lapsed at {@code now} (never true for a lock without a lease). */
    boolean expired(long now) {
        return expiresAt != NEVER && now >= expiresAt;
    }

    /** Whether a non-null owner is this entry's owner. */
    boolean ownedBy(@Nullable String candidate) {
        return candidate != null && candidate.equals(owner);
    }

    /** The lease left at {@code now} in milliseconds (at least 1 while held), or -1 if it never lapses. */
    long remainingMillis(long now) {
        return expiresAt == NEVER ? -1 : Math.max(1, expiresAt - now);
    }

    /** The owners queued for the key (lapsed ones included until a step drops them). */
    OwnerQueue queue() {
        return queue;
    }

    /**
     * Whether the step that wrote this entry handed the lock to its owner, who queued for it: the update
     * that tells the owner's JVM ({@link GrantListener}). Every later copy clears it, so a renewal or a mark
     * of the same lock sends no second grant.
     */
    boolean granted() {
        return granted;
    }

    /** A copy with another expiry. */
    LockEntry withExpiresAt(long newExpiresAt) {
        return new LockEntry(owner, token, newExpiresAt, held, waited, nonce, queue, false);
    }

    /** A copy marked as waited for. */
    LockEntry withWaited(boolean newWaited) {
        return new LockEntry(owner, token, expiresAt, held, newWaited, nonce, queue, false);
    }

    /** A copy with another queue. */
    LockEntry withQueue(OwnerQueue newQueue) {
        return new LockEntry(owner, token, expiresAt, held, waited, nonce, newQueue, false);
    }

    /** This key released: a free entry with the same token, which wakes waiters if the lock had any. */
    LockEntry freed() {
        return new LockEntry(null, token, NEVER, false, waited, 0, OwnerQueue.EMPTY, false);
    }

    /**
     * This key handed to a queued owner: a lock of {@code next}'s owner with {@code newToken}, for
     * {@link OwnerQueue.Entry#grantMillis()} from {@code now}, {@code rest} still queued, marked as
     * {@link #granted()}. It keeps the waited-for mark: the waiters of a free key still wait.
     */
    LockEntry handedTo(OwnerQueue.Entry next, OwnerQueue rest, long newToken, long now) {
        return new LockEntry(next.owner(), newToken, OwnerQueue.saturatedSum(now, next.grantMillis()), true, waited,
                0, rest, true);
    }

    /**
     * The token for a new lock on a key: above the key's last token while its entry still holds one, and
     * never below {@code floor}, a value read from the member's clock.
     *
     * @param stored the key's entry (free, or a lapsed lock), or {@code null} when it has none
     * @param floor  the member's clock in microseconds since the epoch
     */
    static long nextToken(@Nullable LockEntry stored, long floor) {
        return stored == null ? floor : Math.max(stored.token + 1, floor);
    }

    /**
     * The TTL Hazelcast gives the entry when it is stored at {@code now}: none (0, for ever) for a lock
     * without a lease; its lease left plus {@link #ENDED_LOCK_TTL_MILLIS} for a leased lock; that TTL alone
     * for a free entry (one left for waiters). Recomputed at every write, on the primary and on each backup with
     * its own clock.
     */
    long ttlMillis(long now) {
        long lock = !held ? ENDED_LOCK_TTL_MILLIS
                : expiresAt == NEVER ? 0 : Math.max(1, expiresAt - now) + ENDED_LOCK_TTL_MILLIS;
        if (lock == 0 || queue.isEmpty()) {
            return lock;
        }
        return Math.max(lock, OwnerQueue.saturatedSum(Math.max(1, queue.lastLapse() - now), ENDED_LOCK_TTL_MILLIS));
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeString(owner);
        out.writeLong(token);
        out.writeLong(expiresAt);
        out.writeByte((held ? HELD : 0) | (waited ? WAITED : 0) | (granted ? GRANTED : 0));
        out.writeLong(nonce);
        queue.writeData(out);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        owner = in.readString();
        token = in.readLong();
        expiresAt = in.readLong();
        byte flags = in.readByte();
        held = (flags & HELD) != 0;
        waited = (flags & WAITED) != 0;
        granted = (flags & GRANTED) != 0;
        nonce = in.readLong();
        queue = OwnerQueue.readData(in);
    }

    /** Writes an entry or its absence inside another object's data (no class name). */
    static void writeNullable(ObjectDataOutput out, @Nullable LockEntry entry) throws IOException {
        out.writeBoolean(entry != null);
        if (entry != null) {
            entry.writeData(out);
        }
    }

    /** Reads what {@link #writeNullable} wrote. */
    static @Nullable LockEntry readNullable(ObjectDataInput in) throws IOException {
        if (!in.readBoolean()) {
            return null;
        }
        LockEntry entry = new LockEntry();
        entry.readData(in);
        return entry;
    }

    /**
     * The lock's state: owner, token, expiry, held, waited, queue; not the nonce of the call that took it, nor
     * whether its write was a grant.
     */
    @Override
    public boolean equals(@Nullable Object other) {
        return other instanceof LockEntry that && token == that.token && expiresAt == that.expiresAt
                && held == that.held && waited == that.waited && Objects.equals(owner, that.owner)
                && queue.equals(that.queue);
    }

    @Override
    public int hashCode() {
        return Objects.hash(owner, token, expiresAt, held, waited, queue);
    }

    @Override
    public String toString() {
        return (held ? "LockEntry[owner=" + owner + ", token=" + token + ", expiresAt=" + expiresAt
                : "LockEntry[free, token=" + token) + (waited ? ", waited" : "") + (granted ? ", granted" : "")
                + (queue.isEmpty() ? "]" : ", queue " + queue + "]");
    }
}
