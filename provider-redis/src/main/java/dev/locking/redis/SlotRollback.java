package dev.locking.redis;

import dev.locking.spi.support.BackendCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The slots one {@code tryAcquire} has taken so far, and how to put them back. In a cluster an acquire
 * takes its slots one after another ({@link SlotGroup}); when a later slot conflicts or fails, the earlier
 * ones are rolled back with undo.lua: a lock that was free is deleted (if it still holds this owner and
 * token), a re-entered lock gets its old expiry back. Also finds which key to report when a later slot
 * conflicts, since a slot not tried yet may hold a conflicting key that sorts first.
 *
 * <p>Not thread-safe: one instance per call, used by the calling thread.
 */
final class SlotRollback {
    /** What acquire.lua reports as the prior PTTL of a lock that was free. */
    static final long WAS_FREE = -3L;

    private final LockScripts scripts;
    private final BackendCalls calls;
    private final String owner;
    private final long leaseMillis;
    private final List<Taken> taken;

    SlotRollback(LockScripts scripts, BackendCalls calls, String owner, long leaseMillis, int slots) {
        this.scripts = scripts;
        this.calls = calls;
        this.owner = owner;
        this.leaseMillis = leaseMillis;
        this.taken = new ArrayList<>(slots);
    }

    /**
     * Records a slot as taken.
     *
     * @param tokens    the tokens of the group's keys
     * @param prior     their PTTLs before the call ({@link #WAS_FREE} for a lock that was free)
     * @param sentNanos when the call was sent ({@link System#nanoTime()}), to shorten a restored expiry by
     *                  the time that passed
     */
    void taken(SlotGroup group, long[] tokens, long[] prior, long sentNanos) {
        taken.add(new Taken(group, tokens, prior, sentNanos));
    }

    /** Puts back what the slots taken so far changed. */
    void undo() {
        if (taken.isEmpty()) {
            return;
        }
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (int t = taken.size() - 1; t >= 0; t--) {
            Taken part = taken.get(t);
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - part.sentNanos);
            List<String> keys = new ArrayList<>();
            List<String> tokens = new ArrayList<>();
            List<String> restore = new ArrayList<>();
            for (int i = 0; i < part.group.size(); i++) {
                long prior = part.prior[i];
                if (prior != WAS_FREE && leaseMillis == 0) {
                    continue; // re-entered without a lease: nothing changed
                }
                keys.add(part.group.keys.get(i));
                tokens.add(Long.toString(part.tokens[i]));
                restore.add(Long.toString(prior < 0 ? prior : Math.max(1, prior - elapsedMillis)));
            }
            if (!keys.isEmpty()) {
                futures.add(scripts.undo(scripts.lockKeys(keys), owner, tokens, restore));
            }
        }
        for (CompletableFuture<Long> future : futures) {
            calls.await(future, "tryAcquire (rollback)");
        }
    }

    /** Rolls back after a failed call, as far as Redis still answers. */
    void undoAfterFailure(RuntimeException failure) {
        try {
            undo();
        } catch (RuntimeException e) {
            failure.addSuppressed(e); // what stays locked lapses with its lease
        }
    }

    /**
     * In a cluster a later slot may hold a conflicting key that sorts before the one found: look at the keys
     * before it in the slots not tried yet, so the reported key is the first conflicting one.
     *
     * @param keys    the call's keys
     * @param untried the groups not tried yet
     * @param found   the position of the conflicting key found
     * @return the position of the first conflicting key
     */
    int firstConflict(List<String> keys, List<SlotGroup> untried, int found) {
        int first = found;
        List<SlotGroup> candidates = new ArrayList<>();
        for (SlotGroup group : untried) {
            SlotGroup before = group.before(found, keys);
            if (before != null) {
                candidates.add(before);
            }
        }
        if (candidates.isEmpty()) {
            return first;
        }
        List<CompletableFuture<List<Object>>> futures = new ArrayList<>();
        for (SlotGroup group : candidates) {
            futures.add(scripts.peek(group.keys, false));
        }
        for (int g = 0; g < candidates.size(); g++) {
            SlotGroup group = candidates.get(g);
            List<Object> reply = calls.await(futures.get(g), "tryAcquire");
            for (int i = 0; i < group.size(); i++) {
                Object value = reply.get(3 * i);
                boolean conflicts = value != null && (owner.isEmpty() || !owner.equals(value));
                if (conflicts && group.positions.get(i) < first) {
                    first = group.positions.get(i);
                }
            }
        }
        return first;
    }

    /** A slot taken, with what is needed to roll it back. */
    private static final class Taken {
        final SlotGroup group;
        final long[] tokens;
        final long[] prior;
        final long sentNanos;

        Taken(SlotGroup group, long[] tokens, long[] prior, long sentNanos) {
            this.group = group;
            this.tokens = tokens;
            this.prior = prior;
            this.sentNanos = sentNanos;
        }
    }
}
