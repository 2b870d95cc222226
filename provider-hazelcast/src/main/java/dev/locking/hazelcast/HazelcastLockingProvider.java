package dev.locking.hazelcast;

import com.hazelcast.config.IndexConfig;
import com.hazelcast.config.IndexType;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.serialization.HazelcastSerializationException;
import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;
import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.hazelcast.LockProcessors.Acquire;
import dev.locking.hazelcast.LockProcessors.Extend;
import dev.locking.hazelcast.LockProcessors.Inspect;
import dev.locking.hazelcast.LockProcessors.Release;
import dev.locking.hazelcast.LockProcessors.ReleaseEvery;
import dev.locking.hazelcast.LockProcessors.Restore;
import dev.locking.hazelcast.LockProcessors.Undo;
import dev.locking.hazelcast.LockProcessors.Watch;
import dev.locking.hazelcast.Outcome.Status;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lp_hazelcast}: locks in a Hazelcast {@code IMap<String, LockEntry>}, changed only by the entry
 * processors of {@link LockProcessors}.
 *
 * <h2>Mapping</h2>
 * <ul>
 *   <li>One key, one step: acquire, extend, release and inspect are each one entry processor on the
 *       key's partition, so one round trip per key.</li>
 *   <li>Several keys: taken one by one in the (sorted) order the core gives, and on the first conflict
 *       the keys already taken are rolled back (a re-entered key gets its old expiry back). Because
 *       every caller takes keys in the same order, two callers never hold parts of each other's sets
 *       for long, and there is no deadlock. Hazelcast transactions were not used: they cannot run entry
 *       processors, cost more round trips, and leave key locks
 *       behind a client that dies mid-transaction. Observers may see a multi-key acquire half done
 *       while it runs, never after it returned a conflict.</li>
 *   <li>A key's entry lives as long as the map: a release turns it into a free entry that keeps the key's
 *       last fencing token, so the next acquire gives the next token in the same step (see
 *       {@link LockEntry}). Entries have no TTL; the expiry they record decides.</li>
 *   <li>Waiting: a waiter marks the locks it waits for ({@link LockProcessors.Watch}); one entry listener
 *       per provider instance, whose predicate passes only the release of a marked lock, wakes the local
 *       waiters of that key. A waiter also re-checks after at most the holder's remaining lease (a lapse
 *       sends no event) and at most every {@value #RECHECK_MILLIS} ms (a notification lost in a
 *       fail-over).</li>
 *   <li>{@code releaseAll(owner)} finds the owner's keys through an indexed predicate on
 *       {@code owner} (free entries have none) and releases each as {@code release} would;
 *       {@code releaseAll()} turns every held entry free, keeping the tokens.</li>
 * </ul>
 *
 * <h2>Concurrency</h2>
 * The backend (instance, map, listener) is created on first use under {@code startLock} and published
 * through a volatile field; every other path reads that field without locking. An owned instance that
 * stopped (a client that gave up on its cluster) is replaced on the next use, under the same lock.
 * {@code closed} is only written under {@code startLock}.
 *
 * <h2>Failures</h2>
 * Every call on the backend waits at most {@code operationTimeout}; no answer, or a Hazelcast failure
 * that means the cluster cannot be reached, is a {@link ProviderUnavailableException}. Waits for an
 * answer ignore interrupts (the flag is kept), so a release in a {@code finally} still runs.
 */
final class HazelcastLockingProvider implements LockingProvider {

    /** The longest a waiter sleeps before asking the backend again. */
    static final long RECHECK_MILLIS = 1000;

    /** Leases are capped here so that {@code now + lease} cannot overflow (about 73 million years). */
    private static final long MAX_LEASE_MILLIS = Long.MAX_VALUE / 4;

    private static final Logger log = LoggerFactory.getLogger(HazelcastLockingProvider.class);

    private final String id;
    private final InstanceSource source;
    private final String mapName;
    private final Duration operationTimeout;
    private final long recheckMillis;
    private final Waiters waiters = new Waiters();
    private final Object startLock = new Object();
    private volatile @Nullable Backend backend;
    private volatile boolean closed;

    /** What first use creates. */
    private static final class Backend {
        final HazelcastInstance instance;
        final IMap<String, LockEntry> locks;
        final UUID listenerId;

        Backend(HazelcastInstance instance, IMap<String, LockEntry> locks, UUID listenerId) {
            this.instance = instance;
            this.locks = locks;
            this.listenerId = listenerId;
        }

        boolean running() {
            return instance.getLifecycleService().isRunning();
        }
    }

    /** A key this call took or re-entered, kept for a rollback. */
    private record Taken(String key, Outcome outcome) {}

    HazelcastLockingProvider(String id, InstanceSource source, String mapName, Duration operationTimeout) {
        this(id, source, mapName, operationTimeout, RECHECK_MILLIS);
    }

    /** For tests: {@code recheckMillis} replaces {@link #RECHECK_MILLIS}. */
    HazelcastLockingProvider(String id, InstanceSource source, String mapName, Duration operationTimeout,
            long recheckMillis) {
        this.id = id;
        this.recheckMillis = recheckMillis;
        this.source = source;
        this.mapName = mapName;
        this.operationTimeout = operationTimeout;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        Backend b = backend();
        long leaseMillis = lease == null ? 0 : leaseMillis(lease);
        List<Taken> taken = new ArrayList<>(keys.size());
        try {
            for (String key : keys) {
                Outcome outcome = await(submit(() -> b.locks.submitToKey(key,
                        new Acquire(ownerId, leaseMillis))), deadline(), "acquire", key);
                if (outcome.status() == Status.CONFLICT) {
                    rollback(b, taken);
                    if (log.isDebugEnabled()) {
                        LockEntry holder = outcome.entry();
                        log.debug("{}: {} not acquired for {}: \"{}\" is held by {}", id, keys, describe(ownerId), key,
                                holder == null ? "someone" : describe(holder.owner()));
                    }
                    return new AcquireResult.Conflict(key);
                }
                taken.add(new Taken(key, outcome));
            }
        } catch (RuntimeException e) {
            rollback(b, taken);
            throw e;
        }
        Map<String, Long> tokens = new LinkedHashMap<>();
        long earliest = LockEntry.NEVER;
        for (Taken t : taken) {
            LockEntry entry = required(t.outcome().entry(), t.key());
            tokens.put(t.key(), entry.token());
            if (entry.expiresAt() != LockEntry.NEVER && (earliest == LockEntry.NEVER || entry.expiresAt() < earliest)) {
                earliest = entry.expiresAt();
            }
        }
        Instant expiresAt = earliest == LockEntry.NEVER ? null : Instant.ofEpochMilli(earliest);
        log.debug("{}: acquired {} for {} (tokens {}, expires {})", id, keys, describe(ownerId), tokens,
                expiresAt == null ? "never" : expiresAt);
        return new AcquireResult.Acquired(tokens, expiresAt);
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        Backend b = backend();
        long leaseMillis = leaseMillis(lease);
        long deadline = deadline();
        List<CompletableFuture<Outcome>> answers = new ArrayList<>(keys.size());
        for (String key : keys) {
            answers.add(submit(() -> b.locks.submitToKey(key, new Extend(ownerId, leaseMillis))));
        }
        boolean all = true;
        for (int i = 0; i < keys.size(); i++) {
            all &= await(answers.get(i), deadline, "extend", keys.get(i)).status() == Status.DONE;
        }
        log.debug("{}: {} lease on {} for {} to {}", id, all ? "extended" : "could not extend", keys,
                describe(ownerId), lease);
        return all;
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        Backend b = backend();
        long deadline = deadline();
        List<CompletableFuture<Outcome>> answers = new ArrayList<>(keys.size());
        for (String key : keys) {
            answers.add(submit(() -> b.locks.submitToKey(key, new Release(ownerId, true))));
        }
        boolean all = true;
        for (int i = 0; i < keys.size(); i++) {
            all &= await(answers.get(i), deadline, "release", keys.get(i)).status() == Status.DONE;
        }
        log.debug("{}: released {} for {}: {}", id, keys, describe(ownerId), all ? "all" : "not all");
        return all;
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        Backend b = backend();
        if (ownerId == null) {
            try {
                // Not clear(): a free entry keeps its key's last token.
                uninterruptibly(() -> b.locks.executeOnEntries(new ReleaseEvery()));
            } catch (RuntimeException e) {
                throw translate(e, "releaseAll", "every key");
            }
            log.debug("{}: released every lock in map {}", id, mapName);
            return;
        }
        // An index lookup finds the owner's keys; each is then released by its own step, which checks the
        // owner again and waits for a concurrent acquire on that key instead of racing with it.
        Set<String> keys;
        try {
            Predicate<String, LockEntry> owned = Predicates.equal("owner", ownerId);
            keys = uninterruptibly(() -> b.locks.keySet(owned));
        } catch (RuntimeException e) {
            throw translate(e, "releaseAll", "the keys of " + describe(ownerId));
        }
        long deadline = deadline();
        List<CompletableFuture<Outcome>> answers = new ArrayList<>(keys.size());
        for (String key : keys) {
            answers.add(submit(() -> b.locks.submitToKey(key, new Release(ownerId, false))));
        }
        int released = 0;
        for (CompletableFuture<Outcome> answer : answers) {
            released += await(answer, deadline, "releaseAll", describe(ownerId)).status() == Status.DONE ? 1 : 0;
        }
        log.debug("{}: released {} lock(s) of {}", id, released, describe(ownerId));
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        Backend b = backend();
        Outcome outcome = await(submit(() -> b.locks.submitToKey(key, new Inspect())), deadline(), "inspect", key);
        LockEntry entry = outcome.entry();
        if (outcome.status() != Status.HELD || entry == null) {
            return Optional.empty();
        }
        Instant expiresAt = entry.expiresAt() == LockEntry.NEVER ? null : Instant.ofEpochMilli(entry.expiresAt());
        return Optional.of(new LockInfo(key, entry.owner(), expiresAt, entry.token()));
    }

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        Backend b = backend();
        long slice = Math.min(recheckMillis, Math.max(1, toMillisCeil(maxWait)));
        // Register first: a release that happens while we look at the keys still wakes us.
        Waiters.Waiter waiter = waiters.register(keys);
        try {
            // Marks the held keys as waited for, so that their release sends an event, and reads them.
            Map<String, Outcome> states = await(submit(() -> b.locks.submitToKeys(new LinkedHashSet<>(keys),
                    new Watch())), deadline(), "inspect", keys);
            for (String key : keys) {
                Outcome state = states.get(key);
                if (state == null || state.status() != Status.HELD) {
                    return;
                }
                if (state.remainingMillis() > 0) {
                    slice = Math.min(slice, state.remainingMillis());
                }
            }
            waiter.await(slice);
        } finally {
            waiters.unregister(waiter);
        }
    }

    @Override
    public void close() {
        Backend b;
        synchronized (startLock) {
            if (closed) {
                return;
            }
            closed = true;
            b = backend;
            backend = null;
        }
        waiters.wakeAll();
        if (b == null) {
            return;
        }
        try {
            if (source.owned()) {
                b.instance.shutdown();
            } else if (b.running()) {
                b.locks.removeEntryListener(b.listenerId);
            }
        } catch (RuntimeException e) {
            log.warn("{}: closing {} failed: {}", id, source, e.toString());
        }
        log.info("{}: closed ({})", id, source);
    }

    @Override
    public String toString() {
        return "HazelcastLockingProvider[" + id + ", map " + mapName + ", " + source + "]";
    }

    /** Whether anyone waits in {@link #awaitRelease}; for tests. */
    boolean hasWaiters() {
        return !waiters.isEmpty();
    }

    // --- the backend ---------------------------------------------------------------------------------

    private Backend backend() {
        Backend b = backend;
        if (b != null && b.running()) {
            return b;
        }
        synchronized (startLock) {
            if (closed) {
                throw new IllegalStateException(id + " is closed");
            }
            b = backend;
            if (b != null) {
                if (b.running()) {
                    return b;
                }
                backend = null;
                if (!source.owned()) {
                    throw new ProviderUnavailableException(id + ": the Hazelcast instance it was given ("
                            + b.instance.getName() + ") is not running");
                }
                log.warn("{}: {} has stopped; starting a new one", id, source);
            }
            b = uninterruptibly(this::start);
            backend = b;
            return b;
        }
    }

    private Backend start() {
        HazelcastInstance instance;
        try {
            instance = source.start();
        } catch (RuntimeException e) {
            throw new ProviderUnavailableException(id + ": could not start " + source + ": " + e.getMessage(), e);
        }
        try {
            IMap<String, LockEntry> locks = instance.getMap(mapName);
            // Idempotent: every provider instance on the cluster asks for the same index.
            locks.addIndex(new IndexConfig(IndexType.HASH, "owner"));
            UUID listenerId = locks.addEntryListener(new ReleaseListener(waiters), new ReleaseListener.Freed(), false);
            log.info("{}: using {} (map {})", id, source, mapName);
            return new Backend(instance, locks, listenerId);
        } catch (RuntimeException e) {
            if (source.owned()) {
                try {
                    instance.shutdown();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw translate(e, "prepare map " + mapName, "");
        }
    }

    // --- calls ---------------------------------------------------------------------------------------

    private void rollback(Backend b, List<Taken> taken) {
        for (int i = taken.size() - 1; i >= 0; i--) {
            Taken t = taken.get(i);
            LockEntry entry = required(t.outcome().entry(), t.key());
            LockEntry previous = t.outcome().previous();
            if (t.outcome().status() == Status.REENTERED && (previous == null || previous.equals(entry))) {
                continue; // a re-entry without a lease changed nothing
            }
            try {
                Outcome undone = await(submit(() -> b.locks.submitToKey(t.key(),
                        previous == null ? new Undo(entry.token()) : new Restore(previous))), deadline(),
                        "roll back", t.key());
                if (undone.status() != Status.DONE) {
                    log.debug("{}: nothing to roll back on \"{}\" (its lease lapsed meanwhile)", id, t.key());
                }
            } catch (RuntimeException e) {
                log.warn("{}: could not roll back \"{}\" after a failed multi-key acquire; it stays held until its"
                        + " lease lapses, or until released if it has none: {}", id, t.key(), e.toString());
            }
        }
    }

    private long deadline() {
        return System.nanoTime() + operationTimeout.toNanos();
    }

    /**
     * Sends a call and returns a future of our own for its answer. Waiting never touches Hazelcast's future:
     * an interrupted {@code get} on it completes it with the {@link InterruptedException}, and every later
     * {@code get} would throw that again.
     */
    private static <R> CompletableFuture<R> submit(Supplier<CompletionStage<R>> call) {
        CompletableFuture<R> answer = new CompletableFuture<>();
        try {
            // Run the callback on the thread that completes Hazelcast's future: a plain whenComplete goes
            // to Hazelcast's default async executor, which starts a new thread per task where the common
            // pool has one thread (every 2-CPU machine). The callback only completes our own future.
            call.get().whenCompleteAsync((result, failure) -> {
                if (failure != null) {
                    answer.completeExceptionally(failure);
                } else {
                    answer.complete(result);
                }
            }, Runnable::run);
        } catch (RuntimeException e) {
            answer.completeExceptionally(e);
        }
        return answer;
    }

    /** Runs a blocking Hazelcast call with the interrupt flag cleared, and sets the flag again afterwards. */
    private static <R> R uninterruptibly(Supplier<R> call) {
        boolean interrupted = Thread.interrupted();
        try {
            return call.get();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits for an answer until the deadline, ignoring interrupts (the flag is restored). */
    private <R> R await(CompletableFuture<R> answer, long deadline, String what, Object keys) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof CompletionException && cause.getCause() != null) {
                        cause = cause.getCause();
                    }
                    throw translate(cause == null ? e : cause, what, keys);
                } catch (TimeoutException e) {
                    throw new ProviderUnavailableException(id + ": " + what + " " + quote(keys)
                            + " got no answer from Hazelcast within " + operationTimeout, e);
                } catch (RuntimeException e) {
                    throw translate(e, what, keys);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private LockingException translate(Throwable failure, String what, Object keys) {
        if (failure instanceof LockingException locking) {
            return locking;
        }
        String where = id + ": " + what + (keys.toString().isEmpty() ? "" : " " + quote(keys)) + " failed";
        if (isMissingClass(failure)) {
            return new LockingException(where + ": a member could not load Locking's classes; put the"
                    + " locking-provider-hazelcast jar on the classpath of every member (" + failure + ")", failure);
        }
        if (failure instanceof IllegalArgumentException || failure instanceof UnsupportedOperationException
                || failure instanceof ClassCastException || failure instanceof NullPointerException) {
            return new LockingException(where + ": " + failure, failure);
        }
        return new ProviderUnavailableException(where + ": " + failure, failure);
    }

    private static boolean isMissingClass(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof HazelcastSerializationException || t instanceof ClassNotFoundException
                    || t instanceof NoClassDefFoundError) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static LockEntry required(@Nullable LockEntry entry, String key) {
        if (entry == null) {
            throw new LockingException("Hazelcast returned no lock entry for \"" + key + "\"");
        }
        return entry;
    }

    private static long leaseMillis(Duration lease) {
        return Math.min(MAX_LEASE_MILLIS, Math.max(1, toMillisCeil(lease)));
    }

    private static long toMillisCeil(Duration duration) {
        try {
            long millis = duration.toMillis();
            return duration.minusMillis(millis).isZero() ? millis : millis + 1;
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static String quote(Object keys) {
        return keys instanceof String ? "\"" + keys + "\"" : String.valueOf(keys);
    }

    private static String describe(@Nullable String ownerId) {
        return ownerId == null ? "anonymous" : "owner \"" + ownerId + "\"";
    }
}
