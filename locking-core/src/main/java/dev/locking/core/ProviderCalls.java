package dev.locking.core;

import dev.locking.api.LockingException;
import dev.locking.spi.LockingProvider;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * How the core calls a provider's non-waiting operations: shielded from the caller's interrupt, with a
 * provider's unexpected failure turned into a {@link LockingException} that names the provider and the
 * operation.
 *
 * <p>Concurrency: stateless; each call touches only the calling thread's interrupt flag.
 */
final class ProviderCalls {
    private ProviderCalls() {}

    /**
     * Calls the provider with the thread's interrupt flag cleared, and sets it again afterwards. These
     * calls do not wait for a lock (waiting goes through {@code awaitRelease}, which answers interrupts),
     * but they talk to a backend, and a client library that notices a pending interrupt may give up on a
     * request it has already sent: the server takes the lock and the caller gets an exception, so nobody
     * releases it. Each call is bounded by the provider's own timeouts; the interrupt is only put off to
     * the caller's next blocking call. (An interrupt that arrives from another thread while the call runs
     * is up to the provider.)
     */
    static <T extends @Nullable Object> T call(LockingProvider provider, String operation, Supplier<T> call) {
        boolean interrupted = Thread.interrupted();
        try {
            return call.get();
        } catch (LockingException | IllegalArgumentException e) {
            throw e;
        } catch (RuntimeException e) {
            throw failure(provider, operation, e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The exception for a provider that failed in an operation with something other than its answer. */
    static LockingException failure(LockingProvider provider, String operation, RuntimeException e) {
        return new LockingException("Locking provider " + provider.id() + " failed in " + operation + ": " + e, e);
    }
}
