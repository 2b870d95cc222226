package dev.locking.api;

/**
 * Thrown by {@code execute} when its keys did not all become free within the timeout (the job never
 * ran), and by an {@code acquire} given a {@linkplain AcquireOptions.Builder#wait(java.time.Duration) wait}
 * when its keys did not all become free within it. None of the call's keys stays locked by it.
 *
 * @since 0.1.0
 */
public class LockTimeoutException extends LockingException {
    private static final long serialVersionUID = 1L;

    /** The message every timeout carries. */
    public static final String MESSAGE = "Timed-out acquiring lock.";

    /** Creates the exception with the standard message {@value #MESSAGE}. */
    public LockTimeoutException() {
        super(MESSAGE);
    }
}
