package dev.locking.hazelcast;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.hazelcast.cluster.Member;
import com.hazelcast.config.IndexConfig;
import com.hazelcast.config.IndexType;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import com.hazelcast.query.QueryException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.GrantInbox;
import dev.locking.spi.support.KeyWaiters;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One started Hazelcast instance and the lock map on it, as a provider uses them until it closes (or until
 * an owned instance stops and is replaced): whether a step on a key may be called synchronously from here,
 * and what the provider adds to the map on first need, the release listener (at the first wait), the grant
 * listeners (one per prefix of the owners that queue here) and the owner index (at the first
 * {@code releaseAll(owner)}).
 *
 * <p>Concurrency: used by every thread of the provider. The instance, the map and {@code member} are final.
 * The listeners and the index are added under {@code setupLock}; {@code listenerId} and {@code indexed} are
 * written only there and are volatile, and {@code grantListeners} is a concurrent map written only there, so
 * the common path (already set up) reads them without locking.
 */
final class Backend {

    private static final Logger log = LoggerFactory.getLogger(Backend.class);

    /** The most owner prefixes with a grant listener of their own (see {@link #listenForGrants}). */
    static final int MAX_GRANT_PREFIXES = 8;

    final HazelcastInstance instance;
    final IMap<String, LockEntry> locks;
    /** Whether the instance is a member (else a client). */
    final boolean member;
    private final String id;
    private final String mapName;
    private final Object setupLock = new Object();

    /** The release listener's registration, once added; written under {@code setupLock}. */
    private volatile @Nullable UUID listenerId;

    /** The grant listeners' registrations by owner prefix; written under {@code setupLock}. */
    private final ConcurrentHashMap<String, UUID> grantListeners = new ConcurrentHashMap<>();

    /** Whether the owner index was asked for; written under {@code setupLock}. */
    private volatile boolean indexed;

    /** Whether Hazelcast refused the index because of foreign data (logged once). */
    @GuardedBy("setupLock")
    private boolean indexRefused;

    private Backend(String id, String mapName, HazelcastInstance instance, IMap<String, LockEntry> locks) {
        this.id = id;
        this.mapName = mapName;
        this.instance = instance;
        this.locks = locks;
        this.member = instance.getLocalEndpoint() instanceof Member;
    }

    /**
     * Starts (or borrows) the instance and opens the map. Not a call on the map: a client's start is bounded
     * by its {@code connectTimeout}, and runs with a pending interrupt put off, so that it is not cut short.
     */
    static Backend start(String id, InstanceSource source, String mapName, Failures failures) {
        boolean interrupted = Thread.interrupted();
        try {
            HazelcastInstance instance;
            try {
                instance = source.start();
            } catch (RuntimeException e) {
                throw new ProviderUnavailableException(id + ": could not start " + source + ": " + e.getMessage(), e);
            }
            try {
                IMap<String, LockEntry> locks = instance.getMap(mapName);
                log.info("{}: using {} (map {})", id, source, mapName);
                return new Backend(id, mapName, instance, locks);
            } catch (RuntimeException e) {
                if (source.owned()) {
                    try {
                        instance.shutdown();
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw failures.translate(e, "prepare map " + mapName);
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Whether a call on this key may wait for its answer synchronously: always from a client (the deadline
     * watcher can end its wait), and from a member for a key it owns itself (the step runs here, and
     * Hazelcast bounds the wait for its backups). A member's synchronous call on a key another member owns
     * could not be cut off.
     */
    boolean direct(String key) {
        if (!member) {
            return true;
        }
        Member owner = instance.getPartitionService().getPartition(key).getOwner();
        return owner != null && owner.localMember();
    }

    boolean running() {
        return instance.getLifecycleService().isRunning();
    }

    /**
     * Registers the release listener on first need: before this provider's first wait. Until then no member
     * evaluates its predicate on every update. A release that follows the waiter's
     * {@link LockProcessors.Watch} reaches a listener registered before it.
     */
    void listen(KeyWaiters waiters, KeySteps steps) {
        if (listenerId != null) {
            return;
        }
        synchronized (setupLock) {
            if (listenerId == null) {
                // Not repeatable: a second registration would leave a listener behind.
                listenerId = steps.blocking(() -> locks.addEntryListener(new ReleaseListener(waiters),
                        new ReleaseListener.Freed(), false), "listen to releases on map " + mapName, false);
            }
        }
    }

    /**
     * Registers the grant listener for the owner's prefix ({@link GrantListener#prefixOf}) on first need: before
     * the first {@code acquireOrQueue} of such an owner, so every grant to it reaches this JVM. Members evaluate
     * the predicate of each registration on every update of the map; a provider has one registration per
     * service that queues through it (usually one). Past {@link #MAX_GRANT_PREFIXES} prefixes (services made
     * and dropped over one provider), one more registration with the empty prefix hears every grant, and no
     * other is added.
     */
    void listenForGrants(String owner, GrantInbox slots, KeySteps steps) {
        String prefix = GrantListener.prefixOf(owner);
        if (grantListeners.containsKey(prefix) || grantListeners.containsKey("")) {
            return;
        }
        synchronized (setupLock) {
            if (grantListeners.size() >= MAX_GRANT_PREFIXES) {
                prefix = "";
            }
            if (!grantListeners.containsKey(prefix) && !grantListeners.containsKey("")) {
                String registered = prefix;
                // Not repeatable: a second registration would leave a listener behind.
                UUID registration = steps.blocking(() -> locks.addEntryListener(new GrantListener(slots),
                        new GrantListener.GrantedTo(registered), true), "listen to grants on map " + mapName, false);
                grantListeners.put(registered, registration);
            }
        }
    }

    /** How many grant listeners this provider registered; for tests. */
    int grantListeners() {
        return grantListeners.size();
    }

    /**
     * Adds the {@code owner} index on first need: at this provider's first {@code releaseAll(owner)}. The call
     * is idempotent (every provider instance asks for the same index); the first one on a map reads the whole
     * map once to build it, and from then on every write to the map keeps it up to date, which costs the
     * members about 4 us of CPU per acquire-and-release on the bench machine (a fifth of the steps' own
     * cost), so maps that never see {@code releaseAll(owner)} do without. A query that runs while a member
     * still builds the index scans instead, with the same result.
     */
    void index(KeySteps steps) {
        if (indexed) {
            return;
        }
        synchronized (setupLock) {
            if (indexed) {
                return;
            }
            try {
                // A value without an owner attribute (another program's data) makes Hazelcast's addIndex fail
                // half-way, and the half-built index then refuses to remove that very value. So look first (a
                // read of the whole map, as building the index is); with such data, do without the index: the
                // lookup scans instead (same result, slower), and the next releaseAll(owner) looks again.
                Set<String> foreign = steps.blocking(() -> locks.keySet(
                        Predicates.not(Predicates.instanceOf(LockEntry.class))), "look for foreign data in map "
                        + mapName, true);
                if (!foreign.isEmpty()) {
                    if (!indexRefused) {
                        indexRefused = true;
                        log.warn("{}: map {} holds data that is not a lock of this provider (at {} key(s), such as"
                                + " \"{}\"); releaseAll(owner) reads the whole map until that data is removed", id,
                                mapName, foreign.size(), foreign.iterator().next());
                    }
                    return;
                }
                steps.blocking(() -> {
                    locks.addIndex(new IndexConfig(IndexType.HASH, "owner"));
                    return Boolean.TRUE;
                }, "add the owner index to map " + mapName, true);
            } catch (RuntimeException e) {
                if (!Failures.causedBy(e, QueryException.class)) {
                    throw e;
                }
                // Foreign data written between the look and the index: scan, as above.
                log.warn("{}: could not index map {}; releaseAll(owner) reads the whole map: {}", id, mapName,
                        e.toString());
                return;
            }
            indexed = true;
        }
    }

    /** Shuts the instance down if the provider owns it, else removes the listeners this provider added. */
    void close(InstanceSource source) {
        if (source.owned()) {
            instance.shutdown();
            return;
        }
        if (!running()) {
            return;
        }
        UUID registration = listenerId;
        if (registration != null) {
            locks.removeEntryListener(registration);
        }
        for (UUID grants : grantListeners.values()) {
            locks.removeEntryListener(grants);
        }
    }
}
