package dev.locking.hazelcast;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.map.listener.MapEvictedListener;

/**
 * The one entry listener a provider instance registers on its lock map: every removal, expiry or
 * eviction of a key wakes this instance's waiters on that key; a cleared or evicted map wakes them all.
 * It runs on Hazelcast's event threads and only counts down latches. It is registered from this JVM and
 * never sent to members.
 */
final class ReleaseListener implements EntryRemovedListener<String, LockEntry>, EntryExpiredListener<String, LockEntry>,
        EntryEvictedListener<String, LockEntry>, MapClearedListener, MapEvictedListener {

    private final Waiters waiters;

    ReleaseListener(Waiters waiters) {
        this.waiters = waiters;
    }

    @Override
    public void entryRemoved(EntryEvent<String, LockEntry> event) {
        waiters.wake(event.getKey());
    }

    @Override
    public void entryExpired(EntryEvent<String, LockEntry> event) {
        waiters.wake(event.getKey());
    }

    @Override
    public void entryEvicted(EntryEvent<String, LockEntry> event) {
        waiters.wake(event.getKey());
    }

    @Override
    public void mapCleared(MapEvent event) {
        waiters.wakeAll();
    }

    @Override
    public void mapEvicted(MapEvent event) {
        waiters.wakeAll();
    }
}
