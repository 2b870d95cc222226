package dev.locking.hazelcast;

import dev.locking.api.LockingException;
import dev.locking.hazelcast.LockProcessors.Acquire;
import dev.locking.hazelcast.LockProcessors.Restore;
import dev.locking.hazelcast.LockProcessors.Undo;
import dev.locking.hazelcast.Outcome.Status;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.KeyWaiters;
import dev.locking.spi.support.Leases;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code tryAcquire}: one {@link Acquire} step on every key, all sent in one call ({@link KeySteps#all}), so
 * every partition runs its keys' steps at once; one key is one plain step. When any key answers a conflict
 * (or foreign data), the keys the call did take are rolled back: a freshly taken key is freed ({@link Undo},
 * its token spent), a re-entered key gets its old expiry back ({@link Restore}). The rollback of each key
 * depends on that key's own answer only, so its order does not matter. The conflict reported is the first
 * refused key in canonical order.
 *
 * <p>No call waits while it holds keys (a step never waits for a lock), so there is no deadlock. Two calls
 * sent at once can, though, each take a key the other wants and both roll back. So an owner refused here is
 * remembered, and its next calls take the keys one by one in canonical order, up to the first refused key,
 * until one succeeds (the core retries an {@code execute} under the same owner). Of two calls taking keys
 * in order, the first to reach the smallest key they share is never refused by the other; so two calls can
 * refuse each other only while one of them makes its one attempt sent at once (at most two rounds), and
 * cannot keep rolling each other back, in one JVM or across JVMs. In one JVM the core's local queue also
 * lets a call ask only when no other call there holds or waits for its keys. The memory is per provider
 * instance and bounded ({@value #MAX_REFUSED_OWNERS} owners, then emptied): an owner forgotten early makes
 * one more attempt sent at once.
 *
 * <p>Hazelcast transactions were not used: they cannot run entry processors, cost more round trips, and
 * leave key locks behind a client that dies mid-transaction. Observers may see a multi-key acquire half done
 * while it runs, never after it returned a conflict. A call that fails without answers (the cluster went
 * away, the deadline passed) may have taken any of its keys; the core releases an owned call's keys in the
 * background, as for one key.
 *
 * <p>Every step of one call carries the call's nonce, so a call that an interrupt cut short and
 * {@link KeySteps} sent again finds the locks its first run took and reports them taken.
 *
 * <p>Concurrency: safe for concurrent use; the state of one call lives in its local variables, and the
 * refused owners in a concurrent set.
 */
final class MultiKeyAcquire {

    /** Under the provider's name: these are the messages of its {@code tryAcquire}. */
    private static final Logger log = LoggerFactory.getLogger(HazelcastLockingProvider.class);

    /** At most this many owners are remembered as refused (see the class comment). */
    static final int MAX_REFUSED_OWNERS = 10_000;

    private final String id;
    private final KeySteps steps;
    private final Failures failures;
    private final KeyWaiters waiters;
    /** Owners whose last multi-key call here was refused: they take keys in order until they get them. */
    private final Set<String> refusedOwners = ConcurrentHashMap.newKeySet();

    /** A key this call took or re-entered, kept for a rollback. */
    private record Taken(String key, Outcome outcome) {}

    MultiKeyAcquire(String id, KeySteps steps, Failures failures, KeyWaiters waiters) {
        this.id = id;
        this.steps = steps;
        this.failures = failures;
        this.waiters = waiters;
    }

    AcquireResult take(Backend b, List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        long leaseMillis = lease == null ? 0 : Leases.toMillis(lease);
        Acquire step = new Acquire(ownerId, leaseMillis, nonce());
        boolean several = keys.size() > 1;
        boolean inOrder = several && ownerId != null && refusedOwners.contains(ownerId);
        List<Outcome> outcomes = !several ? List.of(steps.one(b, keys.get(0), step, "acquire"))
                : inOrder ? inOrder(b, keys, step) : steps.all(b, keys, step, "acquire", true);
        int refused = firstRefused(outcomes);
        if (refused < 0) {
            if (inOrder) {
                refusedOwners.remove(ownerId);
            }
            AcquireResult.Acquired acquired = acquired(taken(keys, outcomes));
            if (log.isDebugEnabled()) {
                log.debug("{}: acquired {} for {} (tokens {}, expires {})", id, keys,
                        HazelcastLockingProvider.describe(ownerId), acquired.fencingTokens(),
                        acquired.expiresAt() == null ? "never" : acquired.expiresAt());
            }
            return acquired;
        }
        rollback(b, taken(keys, outcomes));
        String key = keys.get(refused);
        Outcome outcome = outcomes.get(refused);
        if (outcome.status() == Status.FOREIGN) {
            throw failures.foreign(key, outcome, "acquire");
        }
        if (several && ownerId != null) {
            remember(ownerId);
        }
        if (log.isDebugEnabled()) {
            LockEntry holder = outcome.entry();
            log.debug("{}: {} not acquired for {}: \"{}\" is held by {}", id, keys,
                    HazelcastLockingProvider.describe(ownerId), key,
                    holder == null ? "someone" : HazelcastLockingProvider.describe(holder.owner()));
        }
        return new AcquireResult.Conflict(key);
    }

    /**
     * The keys one by one, in canonical order, up to the first that is refused; on a failure the keys taken
     * so far are rolled back.
     *
     * @return the answers of the keys tried, in order
     */
    private List<Outcome> inOrder(Backend b, List<String> keys, Acquire step) {
        List<Outcome> outcomes = new ArrayList<>(keys.size());
        try {
            for (String key : keys) {
                Outcome outcome = steps.one(b, key, step, "acquire");
                outcomes.add(outcome);
                if (refused(outcome)) {
                    break;
                }
            }
        } catch (RuntimeException e) {
            rollback(b, taken(keys, outcomes));
            throw e;
        }
        return outcomes;
    }

    /** Whether the owner's next multi-key call takes its keys one by one. */
    boolean takesInOrder(String ownerId) {
        return refusedOwners.contains(ownerId);
    }

    /** Records an owner refused here; a full set is emptied (its owners then try all keys at once again). */
    private void remember(String ownerId) {
        if (refusedOwners.size() >= MAX_REFUSED_OWNERS) {
            refusedOwners.clear();
        }
        refusedOwners.add(ownerId);
    }

    private static boolean refused(Outcome outcome) {
        return outcome.status() == Status.FOREIGN || outcome.status() == Status.CONFLICT;
    }

    /** The index of the first refused key (the one reported), or -1. */
    private static int firstRefused(List<Outcome> outcomes) {
        for (int i = 0; i < outcomes.size(); i++) {
            if (refused(outcomes.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /** The keys among those answered that this call took or re-entered. */
    private static List<Taken> taken(List<String> keys, List<Outcome> outcomes) {
        List<Taken> taken = new ArrayList<>(outcomes.size());
        for (int i = 0; i < outcomes.size(); i++) {
            if (!refused(outcomes.get(i))) {
                taken.add(new Taken(keys.get(i), outcomes.get(i)));
            }
        }
        return taken;
    }

    /** The tokens of every key, and the earliest expiry among them (none if no key has a lease). */
    private static AcquireResult.Acquired acquired(List<Taken> taken) {
        Map<String, Long> tokens = new LinkedHashMap<>();
        long earliest = LockEntry.NEVER;
        for (Taken t : taken) {
            LockEntry entry = required(t.outcome().entry(), t.key());
            tokens.put(t.key(), entry.token());
            if (entry.expiresAt() != LockEntry.NEVER && (earliest == LockEntry.NEVER || entry.expiresAt() < earliest)) {
                earliest = entry.expiresAt();
            }
        }
        return new AcquireResult.Acquired(tokens, earliest == LockEntry.NEVER ? null : Instant.ofEpochMilli(earliest));
    }

    private void rollback(Backend b, List<Taken> taken) {
        for (int i = taken.size() - 1; i >= 0; i--) {
            Taken t = taken.get(i);
            LockEntry entry = required(t.outcome().entry(), t.key());
            LockEntry previous = t.outcome().previous();
            if (t.outcome().status() == Status.REENTERED && (previous == null || previous.equals(entry))) {
                continue; // a re-entry without a lease changed nothing
            }
            try {
                Outcome undone = steps.one(b, t.key(), previous == null ? new Undo(entry.token())
                        : new Restore(previous), "roll back");
                if (undone.status() != Status.DONE) {
                    log.debug("{}: nothing to roll back on \"{}\" (its lease lapsed meanwhile)", id, t.key());
                } else if (previous == null) {
                    waiters.wakeAll(t.key()); // freed: see HazelcastLockingProvider, "Waiting"
                }
            } catch (RuntimeException e) {
                log.warn("{}: could not roll back \"{}\" after a failed multi-key acquire; it stays held until its"
                        + " lease lapses, or until released if it has none: {}", id, t.key(), e.toString());
            }
        }
    }

    /** A random, non-zero nonce for one acquire call (see {@link Acquire}). */
    private static long nonce() {
        long n;
        do {
            n = ThreadLocalRandom.current().nextLong();
        } while (n == 0);
        return n;
    }

    private static LockEntry required(@Nullable LockEntry entry, String key) {
        if (entry == null) {
            throw new LockingException("Hazelcast returned no lock entry for \"" + key + "\"");
        }
        return entry;
    }
}
