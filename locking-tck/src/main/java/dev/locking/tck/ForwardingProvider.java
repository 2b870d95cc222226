package dev.locking.tck;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A provider that passes every call on to another one. The kit's {@link CountingProvider} extends it to count
 * calls, and the kit's own tests extend it to break one rule of a real provider at a time.
 *
 * <p>Concurrency: as safe for concurrent use as the delegate; it keeps no state of its own.
 */
class ForwardingProvider implements LockingProvider {
    /** The provider every call goes to. */
    protected final LockingProvider delegate;

    ForwardingProvider(LockingProvider delegate) {
        this.delegate = delegate;
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
    public void close() {
        delegate.close();
    }
}
