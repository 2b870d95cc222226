package dev.locking.core;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockInfo;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingException;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderNotFoundException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.api.ReleaseAllOptions;
import dev.locking.api.ReleaseOptions;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link LockingService} the core builds: validates, resolves the provider, waits, renews and nests,
 * and leaves only the atomic steps to the provider.
 *
 * <p>Concurrency: the provider map is immutable after construction. Per-thread nesting state lives in a
 * {@link ThreadLocal} that only its thread touches. Running {@code execute} calls are shared with the
 * {@link LeaseRenewer} through {@link Execution}, whose own comment says who writes what.
 */
final class DefaultLockingService implements LockingService {
    private static final Logger log = LoggerFactory.getLogger(DefaultLockingService.class);

    /** The longest single wait before trying again, in case a release notification was missed. */
    static final Duration WAIT_SLICE = Duration.ofSeconds(2);

    private final Map<String, LockingProvider> providers;
    /** Per provider id: this service's execute calls holding or waiting for its keys. */
    private final Map<String, LocalQueue> queues;
    private final Set<String> providerIds;
    private final LockingProvider defaultProvider;
    private final LockingClock clock;
    private final long waitSliceNanos;
    private final LeaseRenewer renewer;
    private final String ownerPrefix = Keys.EXECUTE_OWNER_PREFIX + UUID.randomUUID() + ":";
    private final AtomicLong executions = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The {@code execute} calls running on each thread, innermost last; empty when none. */
    private final ThreadLocal<ArrayList<Execution>> running = ThreadLocal.withInitial(() -> new ArrayList<>(2));

    DefaultLockingService(Map<String, LockingProvider> providers, String defaultId, LockingClock clock,
            Duration waitSlice) {
        this.providers = Map.copyOf(providers);
        Map<String, LocalQueue> q = new HashMap<>();
        for (String providerId : providers.keySet()) {
            q.put(providerId, new LocalQueue());
        }
        this.queues = Map.copyOf(q);
        this.providerIds = Collections.unmodifiableSet(new TreeSet<>(providers.keySet()));
        LockingProvider d = this.providers.get(defaultId);
        if (d == null) {
            throw new ProviderNotFoundException(defaultId, providerIds);
        }
        this.defaultProvider = d;
        this.clock = clock;
        this.waitSliceNanos = waitSlice.toNanos();
        this.renewer = new LeaseRenewer(clock);
    }

    // ---------------------------------------------------------------- execute

    @Override
    @SuppressWarnings("NullAway") // T may be nullable (T extends @Nullable Object); NullAway cannot see it here
    public <T extends @Nullable Object, E extends Exception> T execute(
            Collection<String> keys, LockedJob<T, E> job, @Nullable ExecuteOptions options) throws E {
        ExecuteOptions o = options == null ? ExecuteOptions.DEFAULTS : options;
        List<String> sorted = Keys.canonical(keys);
        if (job == null) {
            throw new IllegalArgumentException("job must not be null (key \"" + sorted.get(0) + "\")");
        }
        Duration lease = Keys.positiveLease(o.effectiveExpire(), sorted);
        LockingProvider provider = provider(o.provider());

        ArrayList<Execution> stack = running.get();
        Execution parent = null;
        List<String> toTake = sorted;
        if (!stack.isEmpty()) {
            parent = innermost(stack, provider);
            if (parent != null) {
                toTake = notHeld(stack, provider, sorted);
                if (toTake.isEmpty()) {
                    // Every key is already held by an enclosing call of this thread: run at once.
                    return runNested(job, parent, sorted);
                }
            }
        }

        String owner = ownerPrefix + Long.toHexString(executions.incrementAndGet());
        LocalQueue queue = queue(provider);
        // A thread that already holds keys of an execute (of any provider) must not queue politely behind
        // waiters that may be waiting for those keys: it asks the backend directly, as a nested call must.
        Taken taken = acquireWaiting(provider, queue, stack.isEmpty(), toTake, owner, lease, o.effectiveTimeout());
        Execution execution = new Execution(provider, sorted, toTake, owner, lease,
                taken.acquired().fencingTokens(), parent, taken.sentNanos());
        renewer.register(execution);
        stack.add(execution);
        T result = null;
        Throwable failure = null;
        try {
            result = job.run(execution);
        } catch (Throwable t) {
            failure = t;
        } finally {
            stack.remove(stack.size() - 1);
            renewer.unregister(execution);
        }
        boolean held = execution.complete();
        try {
            releaseAfterJob(execution, failure);
        } finally {
            queue.released(toTake);
        }
        if (!held) {
            throw new LockLostException(execution.lostMessage(), failure);
        }
        if (failure == null && parent != null && parent.isLost()) {
            throw new LockLostException(parent.lostMessage());
        }
        if (failure != null) {
            throw Job.<RuntimeException>rethrow(failure);
        }
        return result;
    }

    private <T extends @Nullable Object, E extends Exception> T runNested(
            LockedJob<T, E> job, Execution parent, List<String> keys) throws E {
        T result = job.run(keys.equals(parent.keys()) ? parent : new NestedHandle(parent, keys));
        if (parent.isLost()) {
            throw new LockLostException(parent.lostMessage());
        }
        return result;
    }

    /** What an execute took, and when it sent the acquire that took it (the lease runs from no earlier). */
    private record Taken(AcquireResult.Acquired acquired, long sentNanos) {}

    /**
     * Takes the keys for an execute, waiting until they are free or the timeout ends. A call of this JVM
     * joins the {@link LocalQueue} when the keys are held or waited for here and asks the backend when its
     * turn comes; a call whose keys are held elsewhere waits on the provider's notification.
     *
     * @param queued whether this call takes part in the local queue (false for calls made while the thread
     *               holds keys of another execute)
     */
    private Taken acquireWaiting(LockingProvider provider, LocalQueue queue, boolean queued,
            List<String> keys, String owner, Duration lease, Duration timeout) {
        long deadline = clock.nanoTime() + timeout.toNanos();
        LocalQueue.Waiter waiter = null;
        long lastTry = 0;
        boolean providerWoke = false;
        try {
            while (true) {
                long now = clock.nanoTime();
                boolean mayTry = waiter == null
                        ? !queued || !queue.busy(keys)
                        // After a wait on the provider the call asks again whatever its place: the provider
                        // may have handed the key to it (lp_memory reserves a released key for its longest
                        // waiter), and only a call that met a holder outside this JVM waits there. A waiter
                        // that was not given its turn for a whole slice asks anyway: the queue must never
                        // cost more than a slice, whatever went wrong with a wake-up.
                        : providerWoke || queue.mayTry(waiter) || now - lastTry >= waitSliceNanos;
                providerWoke = false;
                String conflict = null;
                if (mayTry) {
                    lastTry = now;
                    AcquireResult result = tryAcquireOrCleanUp(provider, keys, owner, lease);
                    if (result instanceof AcquireResult.Acquired acquired) {
                        queue.took(waiter, keys);
                        waiter = null;
                        if (log.isDebugEnabled()) {
                            log.debug("execute took {} on {} as {}", keys, provider.id(), owner);
                        }
                        return new Taken(acquired, now);
                    }
                    conflict = ((AcquireResult.Conflict) result).key();
                }
                if (queued && waiter == null) {
                    waiter = queue.join(keys);
                    lastTry = now;
                    if (conflict == null) {
                        // What made the keys busy may have ended before we joined, and then no one would
                        // signal us: look again now that we are in the lines.
                        continue;
                    }
                }
                long remaining = deadline - clock.nanoTime();
                if (remaining <= 0) {
                    if (log.isDebugEnabled()) {
                        log.debug("execute timed out after {} waiting for {} on {} ({})", timeout, keys,
                                provider.id(), conflict == null ? "waiting behind other calls of this JVM"
                                        : "held: \"" + conflict + "\"");
                    }
                    throw new LockTimeoutException();
                }
                long slice = Math.min(remaining, waitSliceNanos);
                if (conflict != null && (waiter == null || !queue.heldHere(conflict))) {
                    awaitRelease(provider, keys, conflict, slice); // held elsewhere: the backend tells us
                    providerWoke = true;
                } else {
                    // Held or waited for by calls of this JVM: they signal us when it is our turn.
                    LocalQueue.park(Objects.requireNonNull(waiter, "waiter"), slice);
                    if (Thread.currentThread().isInterrupted()) {
                        throw interruptedWhileWaiting(provider, keys, null);
                    }
                }
            }
        } finally {
            if (waiter != null) {
                queue.leave(waiter);
            }
        }
    }

    /**
     * One attempt of an execute. When it fails without an answer, the request may still have taken the keys
     * on the backend (only the reply was lost), and no one but this call knows its owner id: release them in
     * the background, so they do not stay blocked for a whole lease.
     */
    private AcquireResult tryAcquireOrCleanUp(LockingProvider provider, List<String> keys, String owner,
            Duration lease) {
        long sent = clock.nanoTime();
        return call(provider, "tryAcquire", () -> {
            try {
                return provider.tryAcquire(keys, owner, lease);
            } catch (LockingException | IllegalArgumentException | IllegalStateException e) {
                // Any other LockingException is the provider's answer (nothing changed), as is a refusal.
                if (e instanceof ProviderUnavailableException) {
                    releaseMaybeTaken(provider, keys, owner, sent, lease, e);
                }
                throw e;
            } catch (RuntimeException e) {
                releaseMaybeTaken(provider, keys, owner, sent, lease, e);
                throw e;
            }
        });
    }

    private void releaseMaybeTaken(LockingProvider provider, List<String> keys, String owner, long sentNanos,
            Duration lease, RuntimeException failure) {
        renewer.releaseInBackground(provider, keys, owner, sentNanos + lease.toNanos(), true,
                "an acquire that failed without an answer may have taken them: " + failure);
    }

    private static void awaitRelease(LockingProvider provider, List<String> keys, String conflict, long nanos) {
        try {
            provider.awaitRelease(List.of(conflict), Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw interruptedWhileWaiting(provider, keys, e);
        } catch (LockingException | IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw providerFailure(provider, "awaitRelease", e);
        }
    }

    private static LockingException interruptedWhileWaiting(LockingProvider provider, List<String> keys,
            @Nullable InterruptedException cause) {
        return new LockingException("Interrupted while waiting to lock " + keys + " on " + provider.id()
                + "; nothing was locked", cause);
    }

    private void releaseAfterJob(Execution execution, @Nullable Throwable failure) {
        LockingProvider provider = execution.provider;
        List<String> keys = execution.takenKeys;
        // A job may leave the thread interrupted: call() puts that off until the release is done.
        try {
            boolean released = call(provider, "release", () -> provider.release(keys, execution.ownerId));
            if (log.isDebugEnabled()) {
                log.debug("execute released {} on {} ({})", keys, provider.id(), released ? "released" : "already gone");
            }
        } catch (RuntimeException e) {
            log.warn("Could not release {} on {} after the job; retrying in the background until the backend"
                    + " answers or the lease ends: {}", keys, provider.id(), e.toString());
            renewer.releaseInBackground(provider, keys, execution.ownerId, execution.deadlineNanos(), false,
                    "the release after the job had failed");
            if (failure != null) {
                failure.addSuppressed(e);
            }
        }
    }

    private static @Nullable Execution innermost(List<Execution> stack, LockingProvider provider) {
        for (int i = stack.size() - 1; i >= 0; i--) {
            Execution e = stack.get(i);
            if (e.provider == provider) {
                return e;
            }
        }
        return null;
    }

    private static List<String> notHeld(List<Execution> stack, LockingProvider provider, List<String> keys) {
        List<String> missing = new ArrayList<>(keys.size());
        for (String key : keys) {
            boolean held = false;
            for (Execution e : stack) {
                if (e.provider == provider && e.keys().contains(key)) {
                    held = true;
                    break;
                }
            }
            if (!held) {
                missing.add(key);
            }
        }
        return missing.size() == keys.size() ? keys : List.copyOf(missing);
    }

    // ---------------------------------------------------------------- acquire / release

    @Override
    public Lease acquire(Collection<String> keys, @Nullable AcquireOptions options) {
        AcquireOptions o = options == null ? AcquireOptions.DEFAULTS : options;
        List<String> sorted = Keys.canonical(keys);
        String owner = Keys.owner(o.ownerId());
        Duration lease = Keys.lease(o.expire(), sorted);
        LockingProvider provider = provider(o.provider());
        AcquireResult result = tryAcquire(provider, sorted, owner, lease);
        if (result instanceof AcquireResult.Conflict conflict) {
            if (log.isDebugEnabled()) {
                log.debug("acquire of {} on {} failed: \"{}\" is held", sorted, provider.id(), conflict.key());
            }
            throw new LockAcquisitionException(conflict.key());
        }
        AcquireResult.Acquired acquired = (AcquireResult.Acquired) result;
        if (log.isDebugEnabled()) {
            log.debug("acquired {} on {} (owner {}, lease {})", sorted, provider.id(), owner, lease);
        }
        return new Lease(provider.id(), sorted, owner, acquired.expiresAt(), acquired.fencingTokens());
    }

    @Override
    public boolean release(Collection<String> keys, @Nullable ReleaseOptions options) {
        ReleaseOptions o = options == null ? ReleaseOptions.DEFAULTS : options;
        List<String> sorted = Keys.canonical(keys);
        String owner = Keys.owner(o.ownerId());
        LockingProvider provider = provider(o.provider());
        boolean released = call(provider, "release", () -> provider.release(sorted, owner));
        if (log.isDebugEnabled()) {
            log.debug("release of {} on {} (owner {}): {}", sorted, provider.id(), owner, released);
        }
        return released;
    }

    @Override
    public void releaseAll(@Nullable ReleaseAllOptions options) {
        ReleaseAllOptions o = options == null ? ReleaseAllOptions.DEFAULTS : options;
        String owner = Keys.owner(o.ownerId());
        LockingProvider provider = provider(o.provider());
        call(provider, "releaseAll", () -> {
            provider.releaseAll(owner);
            return null;
        });
        log.debug("releaseAll on {} (owner {})", provider.id(), owner);
    }

    @Override
    public Optional<LockInfo> inspect(String key, @Nullable String providerId) {
        Keys.check(key);
        LockingProvider provider = provider(providerId);
        return call(provider, "inspect", () -> provider.inspect(key));
    }

    private static AcquireResult tryAcquire(LockingProvider provider, List<String> keys, @Nullable String owner,
            @Nullable Duration lease) {
        return call(provider, "tryAcquire", () -> provider.tryAcquire(keys, owner, lease));
    }

    /**
     * Calls the provider with the thread's interrupt flag cleared, and sets it again afterwards. These
     * calls do not wait for a lock (waiting goes through {@code awaitRelease}, which answers interrupts),
     * but they talk to a backend, and a client library that notices a pending interrupt may give up on a
     * request it has already sent: the server takes the lock and the caller gets an exception, so nobody
     * releases it. Each call is bounded by the provider's own timeouts; the interrupt is only put off to
     * the caller's next blocking call. (An interrupt that arrives from another thread while the call runs
     * is up to the provider.)
     */
    private static <T extends @Nullable Object> T call(LockingProvider provider, String operation,
            Supplier<T> call) {
        boolean interrupted = Thread.interrupted();
        try {
            return call.get();
        } catch (LockingException | IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw providerFailure(provider, operation, e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static LockingException providerFailure(LockingProvider provider, String operation, RuntimeException e) {
        return new LockingException("Locking provider " + provider.id() + " failed in " + operation + ": " + e, e);
    }

    // ---------------------------------------------------------------- providers and lifecycle

    /** The local queue of a provider; package-private for tests. */
    LocalQueue queue(String providerId) {
        LocalQueue queue = queues.get(providerId);
        if (queue == null) {
            throw new IllegalArgumentException("no provider " + providerId);
        }
        return queue;
    }

    private LocalQueue queue(LockingProvider provider) {
        LocalQueue queue = queues.get(provider.id());
        if (queue == null) {
            throw new IllegalStateException("no local queue for provider " + provider.id());
        }
        return queue;
    }

    private LockingProvider provider(@Nullable String id) {
        if (closed.get()) {
            throw new IllegalStateException("This LockingService is closed");
        }
        if (id == null) {
            return defaultProvider;
        }
        LockingProvider provider = providers.get(id);
        if (provider == null) {
            throw new ProviderNotFoundException(id, providerIds);
        }
        return provider;
    }

    @Override
    public Set<String> providerIds() {
        return providerIds;
    }

    @Override
    public String defaultProviderId() {
        return defaultProvider.id();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        renewer.close();
        for (LockingProvider provider : providers.values()) {
            try {
                provider.close();
            } catch (RuntimeException e) {
                log.warn("Closing locking provider {} failed: {}", provider.id(), e.toString());
            }
        }
    }

    @Override
    public String toString() {
        return "LockingService" + providerIds + " default " + defaultProvider.id();
    }
}
