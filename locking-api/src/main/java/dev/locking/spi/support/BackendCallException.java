package dev.locking.spi.support;

import dev.locking.api.ProviderUnavailableException;
import org.jspecify.annotations.Nullable;

/**
 * A backend call that ended without an answer within its deadline. {@link #mayHaveTakenEffect()} says whether the backend may still have
 * carried it out, so a caller knows whether a lock may be held that nobody will release (the core then
 * releases it in the background).
 *
 * @since 0.2.0
 */
public class BackendCallException extends ProviderUnavailableException {
    private static final long serialVersionUID = 1L;

    /** The SPI operation that failed, such as {@code tryAcquire}. */
    private final String operation;
    /** Whether the backend may have applied the call before it failed. */
    private final boolean mayHaveTakenEffect;

    /**
     * Creates the exception.
     *
     * @param message            which provider, which operation, and why no answer came
     * @param operation          the operation, such as {@code acquire}
     * @param mayHaveTakenEffect whether the request may have reached the backend and been carried out
     * @param cause              the underlying failure, or {@code null}
     */
    public BackendCallException(String message, String operation, boolean mayHaveTakenEffect,
            @Nullable Throwable cause) {
        super(message, cause);
        this.operation = operation;
        this.mayHaveTakenEffect = mayHaveTakenEffect;
    }

    /**
     * The operation that got no answer.
     *
     * @return the operation's name
     */
    public String operation() {
        return operation;
    }

    /**
     * Whether the backend may have carried the call out although no answer came back.
     *
     * @return true when the request may have reached the backend
     */
    public boolean mayHaveTakenEffect() {
        return mayHaveTakenEffect;
    }
}
