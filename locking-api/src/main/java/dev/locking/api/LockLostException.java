package dev.locking.api;

import org.jspecify.annotations.Nullable;

/**
 * Thrown when the lease of a running {@code execute} was lost: a renewal found the lock gone or taken
 * by someone else, or the backend could not be reached before the lease ran out. The job's result is
 * discarded; the job may have done part of its work without the lock, which is what fencing tokens
 * are for.
 *
 * @since 0.1.0
 */
public class LockLostException extends LockingException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message which keys were lost and why
     */
    public LockLostException(String message) {
        super(message);
    }

    /**
     * Creates the exception with a cause, such as the failure the job threw after it was interrupted.
     *
     * @param message which keys were lost and why
     * @param cause   the underlying failure, or {@code null}
     */
    public LockLostException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
