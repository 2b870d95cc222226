package dev.locking.spi.support;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A provider that passes every call on to another one: the base of a decorator that changes or observes one
 * operation (counting calls, timing them, injecting a fault in a test) and leaves the others alone.
 *
 * <pre>{@code
 * final class CountingProvider extends ForwardingLockingProvider {
 *     final AtomicInteger acquires = new AtomicInteger();
 *
 *     CountingProvider(LockingProvider delegate) {
 *         super(delegate);
 *     }
 *
 *     @Override
 *     public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
 *         acquires.incrementAndGet();
 *         return super.tryAcquire(keys, ownerId, lease);
 *     }
 * }
 * }</pre>
 *
 * <p>Concurrency: as safe for concurrent use as the delegate; it keeps no state of its own.
 *
 * @since 0.2.0
 */
public class ForwardingLockingProvider implements LockingProvider {
    /** The provider every call goes to. */
    protected final LockingProvider delegate;

    /**
     * Wraps a provider.
     *
     * @param delegate the provider every call goes to
     */
    protected ForwardingLockingProvider(LockingProvider delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public String id() {
        return delegate.id();
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        return delegate.tryAcquire(keys, ownerId, lease);
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        return delegate.extend(keys, ownerId, lease);
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        return delegate.release(keys, ownerId);
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        delegate.releaseAll(ownerId);
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        return delegate.inspect(key);
    }

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        delegate.awaitRelease(keys, maxWait);
    }

    @Override
    public boolean handsOff() {
        return delegate.handsOff();
    }

    @Override
    public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
        return delegate.acquireOrQueue(key, ownerId, lease, stay);
    }

    @Override
    public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
            throws InterruptedException {
        return delegate.awaitGrant(key, ownerId, maxWait);
    }

    @Override
    public void leaveQueue(String key, String ownerId) {
        delegate.leaveQueue(key, ownerId);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
