package dev.locking.spring;

/**
 * What a {@link Locked} call does when its keys stay busy.
 *
 * @since 0.2.0
 */
public enum OnBusy {
    /**
     * Wait up to the timeout, then throw {@code LockTimeoutException}; the method does not run.
     */
    WAIT,
    /**
     * Do not run the method and return at once without an error, as a scheduled job that another instance is
     * running should: make one attempt (or wait up to the timeout, when one is given), then return null
     * ({@code Optional.empty()} for an {@code Optional}), logged at DEBUG. A method returning a primitive other
     * than {@code void} cannot be skipped: such a call fails with {@link IllegalArgumentException}. Other failures
     * (backend unreachable, lease lost) are thrown as usual.
     */
    SKIP
}
