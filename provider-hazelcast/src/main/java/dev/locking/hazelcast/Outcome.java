package dev.locking.hazelcast;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * What an entry processor on the lock map reports back to the caller. A {@link DataSerializable} like
 * {@link LockEntry}: the fields are filled in by {@link #readData} and never changed after.
 */
final class Outcome implements DataSerializable {

    /** The possible results, each with the byte that stands for it on the wire. */
    enum Status {
        /** A free key was taken with a new token. */
        TAKEN(1),
        /** The same owner took a key it held again. */
        REENTERED(2),
        /** Someone else holds the key; nothing changed. */
        CONFLICT(3),
        /** A release, extension or rollback took effect. */
        DONE(4),
        /** A release, extension or rollback found nothing of the caller's to act on. */
        NOT_DONE(5),
        /** An inspection found the key held. */
        HELD(6),
        /** An inspection found the key free. */
        FREE(7),
        /** The key holds a value this provider did not write; nothing changed (see {@link #detail()}). */
        FOREIGN(8);

        private static final Status[] ALL = values();

        private final byte code;

        Status(int code) {
            this.code = (byte) code;
        }

        static Status of(byte code) {
            for (Status s : ALL) {
                if (s.code == code) {
                    return s;
                }
            }
            throw new IllegalArgumentException("no outcome status " + code);
        }
    }

    private Status status = Status.NOT_DONE;
    private @Nullable LockEntry entry;
    private @Nullable LockEntry previous;
    private long remainingMillis;
    /** For {@link Status#FOREIGN}: what the key holds instead of a lock. */
    private @Nullable String detail;

    /** For Hazelcast, which then calls {@link #readData}. */
    Outcome() {}

    /**
     * @param status          what happened
     * @param entry           the entry now stored under the key (for {@link Status#CONFLICT} and
     *                        {@link Status#HELD}: the holder's), or {@code null}
     * @param previous        for {@link Status#REENTERED}: the entry before the re-entry, so a failed
     *                        multi-key acquire can put it back
     * @param remainingMillis the holder's lease left, measured on the member: -1 if it never lapses, 0 when
     *                        the key is free
     */
    Outcome(Status status, @Nullable LockEntry entry, @Nullable LockEntry previous, long remainingMillis) {
        this.status = status;
        this.entry = entry;
        this.previous = previous;
        this.remainingMillis = remainingMillis;
    }

    static Outcome of(Status status) {
        return new Outcome(status, null, null, 0);
    }

    /** The key holds {@code what} (a description of the value), not a lock: nothing was done. */
    static Outcome foreign(String what) {
        Outcome outcome = of(Status.FOREIGN);
        outcome.detail = what;
        return outcome;
    }

    static Outcome of(Status status, LockEntry entry, long now) {
        return new Outcome(status, entry, null, entry.remainingMillis(now));
    }

    Status status() {
        return status;
    }

    @Nullable LockEntry entry() {
        return entry;
    }

    @Nullable LockEntry previous() {
        return previous;
    }

    long remainingMillis() {
        return remainingMillis;
    }

    /** For {@link Status#FOREIGN}: what the key holds instead of a lock; otherwise {@code null}. */
    @Nullable String detail() {
        return detail;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByte(status.code);
        LockEntry.writeNullable(out, entry);
        LockEntry.writeNullable(out, previous);
        out.writeLong(remainingMillis);
        if (status == Status.FOREIGN) {
            out.writeString(detail);
        }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        status = Status.of(in.readByte());
        entry = LockEntry.readNullable(in);
        previous = LockEntry.readNullable(in);
        remainingMillis = in.readLong();
        detail = status == Status.FOREIGN ? in.readString() : null;
    }

    @Override
    public String toString() {
        return "Outcome[" + status + ", " + entry + ", previous " + previous + ", remaining " + remainingMillis
                + (detail == null ? "]" : ", " + detail + "]");
    }
}
