package dev.locking.api;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when a provider's backend cannot be reached, did not answer within its timeout, or the
 * provider failed to start. The call may or may not have taken effect on the backend: a lock taken by
 * an attempt that timed out lapses at the end of its lease (or stays until released, for a lock taken
 * without {@code expire}).
 *
 * @since 0.1.0
 */
public class ProviderUnavailableException extends LockingException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which provider and what failed; never a password or a full connection URL
     */
    public ProviderUnavailableException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message which provider and what failed; never a password or a full connection URL
     * @param cause   the underlying failure, or {@code null}
     */
    public ProviderUnavailableException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
