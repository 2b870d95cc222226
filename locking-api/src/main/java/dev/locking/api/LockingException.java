package dev.locking.api;

import org.jspecify.annotations.Nullable;

/**
 * The base of every failure this library reports. Bad arguments are reported as
 * {@link IllegalArgumentException} instead, and a call on a closed service as {@link IllegalStateException}.
 *
 * <p>Subtypes say what went wrong: {@link LockAcquisitionException}, {@link LockTimeoutException},
 * {@link LockLostException}, {@link ProviderNotFoundException}, {@link ProviderUnavailableException}.
 * A plain {@code LockingException} is thrown for an interrupted wait and for a provider failure that
 * fits none of them; its cause says more.
 *
 * @since 0.1.0
 */
public class LockingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception with a message.
     *
     * @param message what went wrong
     */
    public LockingException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a message and its cause.
     *
     * @param message what went wrong
     * @param cause   the underlying failure, or {@code null}
     */
    public LockingException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
