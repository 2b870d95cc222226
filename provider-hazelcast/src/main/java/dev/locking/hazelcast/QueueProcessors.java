package dev.locking.hazelcast;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import dev.locking.hazelcast.LockProcessors.Mutating;
import dev.locking.hazelcast.Outcome.Status;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The entry processors of the hand-off to queued owners: joining (or staying in) a key's queue, and leaving
 * it. They follow the rules of {@link LockProcessors} (member clock, foreign data left alone, backups get the
 * exact result). The hand-off itself is {@link LockProcessors#end}, which every step that frees a key runs.
 */
final class QueueProcessors {

    private QueueProcessors() {}

    /**
     * {@code acquireOrQueue}: the owner already holds the key (handed to it, or taken by an earlier run of this
     * step whose answer was lost) and is told its token and expiry, unchanged; or it takes the free key when no live entry of another
     * owner queues before it; or it joins the end of the queue, or renews its entry where it stands. A free
     * key whose first live queued owner is another one is handed to that owner in the same step (the holder's
     * lease lapsed and nobody released it). Runs twice harmlessly: an owner is unique to one call.
     */
    static final class AcquireOrQueue extends Mutating {
        private static final long serialVersionUID = 1L;

        private String owner = "";
        private long leaseMillis;
        private long stayMillis;

        /** For Hazelcast. */
        AcquireOrQueue() {}

        AcquireOrQueue(String owner, long leaseMillis, long stayMillis) {
            this.owner = owner;
            this.leaseMillis = leaseMillis;
            this.stayMillis = stayMillis;
        }

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            long now = System.currentTimeMillis();
            long expiresAt = OwnerQueue.saturatedSum(now, leaseMillis);
            if (stored != null && stored.heldAt(now) && stored.ownedBy(owner)) {
                return taken(stored, now); // as it is: the core renews a granted key itself
            }
            OwnerQueue live = stored == null ? OwnerQueue.EMPTY : stored.queue().live(now);
            if (stored != null && stored.heldAt(now)) {
                LockEntry queued = stored.withQueue(live.refreshed(owner, leaseMillis, stayMillis, now));
                put(entry, queued);
                return queued(queued, now);
            }
            if (live.mayTake(owner)) {
                LockEntry taken = LockEntry.held(owner, LockEntry.nextToken(stored, LockProcessors.tokenClock()),
                        expiresAt).withQueue(live.without(owner));
                put(entry, taken);
                return taken(taken, now);
            }
            // Free (its holder's lease lapsed) while another owner queues first: hand it to that owner now, as
            // a release would (stored is not null: its queue is not empty).
            OwnerQueue.Entry next = Objects.requireNonNull(live.head());
            LockEntry handed = Objects.requireNonNull(stored).handedTo(next,
                    live.withoutHead().refreshed(owner, leaseMillis, stayMillis, now),
                    LockEntry.nextToken(stored, LockProcessors.tokenClock()), now);
            put(entry, handed);
            return queued(handed, now);
        }

        /** The answer for a key the owner holds now: the lock, without the queue (the caller needs none of it). */
        private static Outcome taken(LockEntry lock, long now) {
            return Outcome.of(Status.TAKEN, lock.withQueue(OwnerQueue.EMPTY), now);
        }

        /** The answer for a queued owner: only the holder's lease left, when its JVM looks again at the latest. */
        private static Outcome queued(LockEntry lock, long now) {
            return new Outcome(Status.CONFLICT, null, null, lock.remainingMillis(now));
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(owner);
            out.writeLong(leaseMillis);
            out.writeLong(stayMillis);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            owner = Objects.requireNonNull(in.readString(), "owner");
            leaseMillis = in.readLong();
            stayMillis = in.readLong();
        }
    }

    /**
     * {@code leaveQueue}: takes the owner's entry out of the key's queue and, if the owner holds the key
     * (handed to it, or taken by an {@code acquireOrQueue} whose answer was lost; lapsed or not), ends its lock,
     * which hands the key to the next live queued owner. Reports {@link Status#DONE} when it ended a lock.
     * Runs twice harmlessly: the second run finds neither the entry nor the owner's lock.
     */
    static final class LeaveQueue extends Mutating {
        private static final long serialVersionUID = 1L;

        private String owner = "";

        /** For Hazelcast. */
        LeaveQueue() {}

        LeaveQueue(String owner) {
            this.owner = owner;
        }

        @Override
        Outcome decide(Map.Entry<String, LockEntry> entry, @Nullable LockEntry stored) {
            if (stored == null) {
                return Outcome.of(Status.NOT_DONE);
            }
            long now = System.currentTimeMillis();
            LockEntry left = stored.withQueue(stored.queue().live(now).without(owner));
            if (stored.held() && stored.ownedBy(owner)) {
                put(entry, LockProcessors.end(left, now));
                return Outcome.of(Status.DONE);
            }
            if (!left.queue().equals(stored.queue())) {
                put(entry, left);
            }
            return Outcome.of(Status.NOT_DONE);
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(owner);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            owner = Objects.requireNonNull(in.readString(), "owner");
        }
    }
}
