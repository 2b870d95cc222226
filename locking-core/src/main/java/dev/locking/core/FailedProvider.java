package dev.locking.core;

import dev.locking.api.LockInfo;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Stands in for a provider that could not be created, so one broken provider takes no other down:
 * every call on its id fails with a {@link ProviderUnavailableException} that names the cause.
 *
 * <p>Concurrency: immutable; any thread may call it.
 */
final class FailedProvider implements LockingProvider {
    private final String id;
    private final String reason;
    private final @Nullable Throwable cause;

    FailedProvider(String id, String reason, @Nullable Throwable cause) {
        this.id = id;
        this.reason = reason;
        this.cause = cause;
    }

    private ProviderUnavailableException failure() {
        return new ProviderUnavailableException("Locking provider " + id + " is unavailable: " + reason, cause);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        throw failure();
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        throw failure();
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        throw failure();
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        throw failure();
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        throw failure();
    }

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) {
        throw failure();
    }

    @Override
    public void close() {}
}
