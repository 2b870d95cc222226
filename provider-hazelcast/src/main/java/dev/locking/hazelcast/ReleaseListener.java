package dev.locking.hazelcast;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.map.listener.MapEvictedListener;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializable;
import com.hazelcast.query.Predicate;
import dev.locking.spi.support.KeyWaiters;
import java.util.Map;

/**
 * The one entry listener a provider instance registers on its lock map, with the {@link Freed} predicate:
 * a key that turned free while someone waited for it (released, rolled back, {@code releaseAll}) wakes the
 * longest waiter of this instance on that key ({@link KeyWaiters#wakeFirst}: one free key, one winner; a
 * waiter that leaves without trying passes the wake-up on). A cleared or evicted map wakes every waiter. It
 * runs on Hazelcast's event threads and never blocks. It is registered from this JVM and never sent to
 * members.
 *
 * <p>Members send nothing for a release that nobody waits for: a waiter first marks the lock (see
 * {@link LockProcessors.Watch}), and only the release of a marked lock passes the predicate. A lapsed lease
 * sends no event either (nothing writes the entry then): waiters re-check when the holder's lease ends.
 *
 * <p>Concurrency: stateless apart from the registry, which is safe for concurrent use.
 */
final class ReleaseListener implements EntryUpdatedListener<String, LockEntry>, MapClearedListener,
        MapEvictedListener {

    private final KeyWaiters waiters;

    ReleaseListener(KeyWaiters waiters) {
        this.waiters = waiters;
    }

    @Override
    public void entryUpdated(EntryEvent<String, LockEntry> event) {
        waiters.wakeFirst(event.getKey());
    }

    @Override
    public void mapCleared(MapEvent event) {
        waiters.wakeEveryone();
    }

    @Override
    public void mapEvicted(MapEvent event) {
        waiters.wakeEveryone();
    }

    /**
     * Passes the updates whose new value is a free entry released while someone waited
     * ({@link LockEntry#wakesWaiters()}). Members evaluate it on the new value of each update, so they send
     * an event only for those, not for every acquire or release.
     */
    static final class Freed implements Predicate<String, LockEntry>, DataSerializable {
        private static final long serialVersionUID = 1L;

        @Override
        public void writeData(ObjectDataOutput out) {}

        @Override
        public void readData(ObjectDataInput in) {}

        @Override
        public boolean apply(Map.Entry<String, LockEntry> entry) {
            // Read without assuming the type: another program's value at a key is not an error here.
            return LockProcessors.read(entry) instanceof LockEntry value && value.wakesWaiters();
        }
    }
}
