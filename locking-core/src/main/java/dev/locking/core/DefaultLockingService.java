package dev.locking.core;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockAcquisitionException;
import dev.locking.api.LockInfo;
import dev.locking.api.LockLostException;
import dev.locking.api.LockTimeoutException;
import dev.locking.api.LockedJob;
import dev.locking.api.LockingEvent;
import dev.locking.api.LockingEvent.Operation;
import dev.locking.api.LockingEvent.Outcome;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderNotFoundException;
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
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link LockingService} the core builds: validates, resolves the provider, nests, registers leases
 * for renewal and releases after the job; waiting for keys is the provider's {@link WaitLoop}, and the
 * atomic steps are the provider's.
 *
 * <p>Concurrency: thread-safe. The provider and wait-loop maps are immutable after construction. Per-thread
 * nesting state lives in a {@link ThreadLocal} that only its thread touches. Running {@code execute} calls
 * are shared with the {@link LeaseRenewer} through {@link Execution}, whose own comment says who writes
 * what; waiting calls share only their {@link WaitLoop}, whose comment says how.
 */
final class DefaultLockingService implements LockingService {
    private static final Logger log = LoggerFactory.getLogger(DefaultLockingService.class);

    private final Map<String, LockingProvider> providers;
    /** Per provider id: how this service's execute calls take its keys. */
    private final Map<String, WaitLoop> waitLoops;
    private final Set<String> providerIds;
    private final LockingProvider defaultProvider;
    private final LeaseRenewer renewer;
    private final LockingClock clock;
    /** Told of each operation; when none is registered, the calls below skip the clock and the events. */
    private final Listeners listeners;
    private final String ownerPrefix = Keys.EXECUTE_OWNER_PREFIX + UUID.randomUUID() + ":";
    private final AtomicLong executions = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The {@code execute} calls running on each thread, innermost last; empty when none. */
    private final ThreadLocal<ArrayList<Execution>> running = ThreadLocal.withInitial(() -> new ArrayList<>(2));

    DefaultLockingService(Map<String, LockingProvider> providers, String defaultId, LockingClock clock,
            Duration waitSlice, Listeners listeners) {
        this.providers = Map.copyOf(providers);
        this.clock = clock;
        this.listeners = listeners;
        this.providerIds = Collections.unmodifiableSet(new TreeSet<>(providers.keySet()));
        LockingProvider d = this.providers.get(defaultId);
        if (d == null) {
            throw new ProviderNotFoundException(defaultId, providerIds);
        }
        this.defaultProvider = d;
        this.renewer = new LeaseRenewer(clock);
        Map<String, WaitLoop> loops = new HashMap<>();
        for (Map.Entry<String, LockingProvider> provider : this.providers.entrySet()) {
            loops.put(provider.getKey(), new WaitLoop(provider.getValue(), clock, waitSlice, renewer));
        }
        this.waitLoops = Map.copyOf(loops);
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
        boolean observed = listeners.active();
        long start = observed ? clock.nanoTime() : 0L;

        ArrayList<Execution> stack = running.get();
        Execution parent = null;
        List<String> toTake = sorted;
        if (!stack.isEmpty()) {
            parent = innermost(stack, provider);
            if (parent != null) {
                toTake = notHeld(stack, provider, sorted);
                if (toTake.isEmpty()) {
                    // Every key is already held by an enclosing call of this thread: run at once.
                    return observed ? runNestedObserved(job, parent, sorted) : runNested(job, parent, sorted);
                }
            }
        }

        String owner = ownerPrefix + Long.toHexString(executions.incrementAndGet());
        WaitLoop waitLoop = waitLoop(provider);
        // A thread that already holds keys of an execute (of any provider) must not queue politely behind
        // waiters that may be waiting for those keys: it asks the backend directly, as a nested call must.
        WaitLoop.Taken taken;
        try {
            taken = waitLoop.take(toTake, owner, lease, o.effectiveTimeout(), stack.isEmpty());
        } catch (RuntimeException e) {
            if (observed) {
                report(provider, Operation.EXECUTE, outcomeOf(e), sorted, waitedSince(start), e);
            }
            throw e;
        }
        long tookAt = 0L;
        if (observed) {
            tookAt = clock.nanoTime();
            listeners.jobStarted(new LockingEvent(provider.id(), Operation.EXECUTE, Outcome.TAKEN, sorted,
                    Listeners.since(start, tookAt), Duration.ZERO, null));
        }
        Execution execution = new Execution(provider, sorted, toTake, owner, lease,
                taken.acquired().fencingTokens(), parent, taken.sentNanos(), taken.firstLease());
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
            waitLoop.released(taken);
        }
        LockLostException lost = !held ? new LockLostException(execution.lostMessage(), failure)
                : failure == null && parent != null && parent.isLost() ? new LockLostException(parent.lostMessage())
                : null;
        if (observed) {
            long now = clock.nanoTime();
            listeners.operation(new LockingEvent(provider.id(), Operation.EXECUTE, lost == null ? Outcome.TAKEN
                    : Outcome.LOST, sorted, Listeners.since(start, tookAt), Listeners.since(tookAt, now), lost));
        }
        if (lost != null) {
            throw lost;
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

    /** {@link #runNested}, reported to the listeners: it waited for nothing (and took nothing). */
    private <T extends @Nullable Object, E extends Exception> T runNestedObserved(
            LockedJob<T, E> job, Execution parent, List<String> keys) throws E {
        String providerId = parent.provider.id();
        long start = clock.nanoTime();
        listeners.jobStarted(new LockingEvent(providerId, Operation.EXECUTE, Outcome.TAKEN, keys, Duration.ZERO,
                Duration.ZERO, null));
        Outcome outcome = Outcome.TAKEN;
        LockLostException lost = null;
        try {
            return runNested(job, parent, keys);
        } catch (LockLostException e) {
            outcome = Outcome.LOST;
            lost = e;
            throw e;
        } finally {
            listeners.operation(new LockingEvent(providerId, Operation.EXECUTE, outcome, keys, Duration.ZERO,
                    Listeners.since(start, clock.nanoTime()), lost));
        }
    }

    private void releaseAfterJob(Execution execution, @Nullable Throwable failure) {
        LockingProvider provider = execution.provider;
        List<String> keys = execution.takenKeys;
        // A job may leave the thread interrupted: call() puts that off until the release is done.
        try {
            boolean released = ProviderCalls.call(provider, "release", () -> provider.release(keys, execution.ownerId));
            if (log.isDebugEnabled()) {
                log.debug("execute released {} on {} ({})", keys, provider.id(), released ? "released" : "already gone");
            }
        } catch (RuntimeException e) {
            if (closed.get()) {
                // close() released the keys of running calls already; the provider is closed now.
                log.debug("execute did not release {} on {} after the job: the service was closed", keys, provider.id());
                return;
            }
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
        Duration wait = Keys.acquireWait(o.maxWait(), sorted);
        LockingProvider provider = provider(o.provider());
        if (!listeners.active()) {
            return acquire(provider, sorted, owner, lease, wait);
        }
        long start = clock.nanoTime();
        Lease taken;
        try {
            taken = acquire(provider, sorted, owner, lease, wait);
        } catch (RuntimeException e) {
            report(provider, Operation.ACQUIRE, outcomeOf(e), sorted, waitedSince(start), e);
            throw e;
        }
        report(provider, Operation.ACQUIRE, Outcome.TAKEN, sorted, waitedSince(start), null);
        return taken;
    }

    private Lease acquire(LockingProvider provider, List<String> sorted, @Nullable String owner,
            @Nullable Duration lease, @Nullable Duration wait) {
        if (wait != null) {
            // The wait of execute; a thread inside an execute asks the backend directly, as there.
            AcquireResult.Acquired taken = waitLoop(provider).acquire(sorted, owner, lease, wait, running.get().isEmpty());
            log.debug("acquired {} on {} after a wait (owner {}, lease {})", sorted, provider.id(), owner, lease);
            return new Lease(provider.id(), sorted, owner, taken.expiresAt(), taken.fencingTokens());
        }
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
        boolean released;
        try {
            released = ProviderCalls.call(provider, "release", () -> provider.release(sorted, owner));
        } catch (RuntimeException e) {
            if (listeners.active()) {
                report(provider, Operation.RELEASE, Outcome.ERROR, sorted, Duration.ZERO, e);
            }
            throw e;
        }
        if (log.isDebugEnabled()) {
            log.debug("release of {} on {} (owner {}): {}", sorted, provider.id(), owner, released);
        }
        if (listeners.active()) {
            report(provider, Operation.RELEASE, released ? Outcome.RELEASED : Outcome.NOT_RELEASED, sorted, Duration.ZERO,
                    null);
        }
        return released;
    }

    @Override
    public void releaseAll(@Nullable ReleaseAllOptions options) {
        ReleaseAllOptions o = options == null ? ReleaseAllOptions.DEFAULTS : options;
        String owner = Keys.owner(o.ownerId());
        LockingProvider provider = provider(o.provider());
        try {
            ProviderCalls.call(provider, "releaseAll", () -> {
                provider.releaseAll(owner);
                return null;
            });
        } catch (RuntimeException e) {
            if (listeners.active()) {
                report(provider, Operation.RELEASE_ALL, Outcome.ERROR, List.of(), Duration.ZERO, e);
            }
            throw e;
        }
        log.debug("releaseAll on {} (owner {})", provider.id(), owner);
        if (listeners.active()) {
            report(provider, Operation.RELEASE_ALL, Outcome.RELEASED, List.of(), Duration.ZERO, null);
        }
    }

    @Override
    public Optional<LockInfo> inspect(String key, @Nullable String providerId) {
        Keys.check(key);
        LockingProvider provider = provider(providerId);
        return ProviderCalls.call(provider, "inspect", () -> provider.inspect(key));
    }

    private static AcquireResult tryAcquire(LockingProvider provider, List<String> keys, @Nullable String owner,
            @Nullable Duration lease) {
        return ProviderCalls.call(provider, "tryAcquire", () -> provider.tryAcquire(keys, owner, lease));
    }

    // ---------------------------------------------------------------- listeners

    /** Tells the listeners that an operation that held nothing after it returned ended. */
    private void report(LockingProvider provider, Operation operation, Outcome outcome, List<String> keys,
            Duration waited, @Nullable Throwable failure) {
        listeners.operation(new LockingEvent(provider.id(), operation, outcome, keys, waited, Duration.ZERO, failure));
    }

    private Duration waitedSince(long start) {
        return Listeners.since(start, clock.nanoTime());
    }

    private static Outcome outcomeOf(RuntimeException e) {
        if (e instanceof LockTimeoutException) {
            return Outcome.TIMEOUT;
        }
        if (e instanceof LockAcquisitionException) {
            return Outcome.CONFLICT;
        }
        if (e instanceof LockLostException) {
            return Outcome.LOST;
        }
        return Outcome.ERROR;
    }

    // ---------------------------------------------------------------- providers and lifecycle

    /** The local queue of a provider; package-private for tests. */
    LocalQueue queue(String providerId) {
        WaitLoop waitLoop = waitLoops.get(providerId);
        if (waitLoop == null) {
            throw new IllegalArgumentException("no provider " + providerId);
        }
        return waitLoop.queue();
    }

    private WaitLoop waitLoop(LockingProvider provider) {
        WaitLoop waitLoop = waitLoops.get(provider.id());
        if (waitLoop == null) {
            throw new IllegalStateException("no wait loop for provider " + provider.id());
        }
        return waitLoop;
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
        releaseRunning();
        renewer.close();
        for (LockingProvider provider : providers.values()) {
            try {
                provider.close();
            } catch (RuntimeException e) {
                log.warn("Closing locking provider {} failed: {}", provider.id(), e.toString());
            }
        }
    }

    /**
     * The keys of {@code execute} calls still running would otherwise stay held until their lease ends (a closed
     * service no longer renews, and a job's own release would reach a closed provider): release them now, each
     * handle turning lost first, which interrupts its job, so its {@code execute} throws {@code LockLostException}.
     */
    private void releaseRunning() {
        for (Execution execution : renewer.running()) {
            execution.markLost();
            LockingProvider provider = execution.provider;
            try {
                ProviderCalls.call(provider, "release", () -> provider.release(execution.takenKeys, execution.ownerId));
            } catch (RuntimeException e) {
                log.warn("Closing: could not release {} on {}; the lock stays until its lease ends: {}",
                        execution.takenKeys, provider.id(), e.toString());
            }
        }
    }

    @Override
    public String toString() {
        return "LockingService" + providerIds + " default " + defaultProvider.id();
    }
}
