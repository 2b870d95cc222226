package dev.locking.hazelcast;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import com.hazelcast.query.Predicate;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.GrantInbox;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The entry listener that brings a grant to the JVM of the owner it was handed to: a key that a step handed to
 * a queued owner ({@link LockEntry#granted()}) is given to that owner's slot in {@link GrantInbox}, which wakes
 * its thread in {@code awaitGrant}. Runs on Hazelcast's event threads and never blocks. Registered from this
 * JVM (one registration per prefix of the owners queued here, see {@link Backend#listenForGrants}), never
 * sent to members.
 *
 * <p><b>Only the owner's JVM hears of it.</b> The registration's predicate, {@link GrantedTo}, is evaluated by
 * the member that runs the step, on the entry's new value, and passes only a grant whose owner starts with
 * the prefix of this JVM's owners (the core names the owners of one service {@code exec:<service id>:<n>}).
 * So a hand-off sends one event, to one JVM: the rest of the cluster hears nothing, and nothing at all is sent
 * for the steps that only queue, take or release.
 *
 * <p>Concurrency: stateless apart from the slots, which are safe for concurrent use.
 */
final class GrantListener implements EntryUpdatedListener<String, LockEntry> {

    private final GrantInbox slots;

    GrantListener(GrantInbox slots) {
        this.slots = slots;
    }

    @Override
    public void entryUpdated(EntryEvent<String, LockEntry> event) {
        LockEntry lock = event.getValue();
        String owner = lock == null ? null : lock.owner();
        if (lock == null || owner == null || !lock.granted()) {
            return;
        }
        slots.deliver(event.getKey(), owner, acquired(event.getKey(), lock));
    }

    /** What a lock handed to its owner is worth to that owner: its token and expiry. */
    static AcquireResult.Acquired acquired(String key, LockEntry lock) {
        return new AcquireResult.Acquired(Map.of(key, lock.token()),
                lock.expiresAt() == LockEntry.NEVER ? null : Instant.ofEpochMilli(lock.expiresAt()));
    }

    /**
     * The prefix of an owner that the grants for it are filtered by: everything up to and including its last
     * {@code ':'} ({@code exec:<service id>:} for the core's owners), or the empty prefix (every grant) for an
     * owner without one.
     */
    static String prefixOf(String owner) {
        return owner.substring(0, owner.lastIndexOf(':') + 1);
    }

    /** Passes the updates that hand a key to an owner whose id starts with the prefix. */
    static final class GrantedTo implements Predicate<String, LockEntry>, DataSerializable {
        private static final long serialVersionUID = 1L;

        private String prefix = "";

        /** For Hazelcast. */
        GrantedTo() {}

        GrantedTo(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public boolean apply(Map.Entry<String, LockEntry> entry) {
            // Read without assuming the type: another program's value at a key is not an error here.
            if (LockProcessors.read(entry) instanceof LockEntry value && value.granted()) {
                String owner = value.owner();
                return owner != null && owner.startsWith(prefix);
            }
            return false;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(prefix);
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            prefix = Objects.requireNonNull(in.readString(), "prefix");
        }

        @Override
        public boolean equals(@Nullable Object other) {
            return other instanceof GrantedTo that && prefix.equals(that.prefix);
        }

        @Override
        public int hashCode() {
            return prefix.hashCode();
        }
    }
}
