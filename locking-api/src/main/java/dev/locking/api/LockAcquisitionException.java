package dev.locking.api;

/**
 * Thrown by {@code acquire} when a key is held by someone else: another owner, or anonymously.
 * Nothing changed: acquire is all or nothing, so none of the call's keys was taken or extended.
 *
 * <p>The message is {@code Failed to acquire lock for key "<key>"}, naming the first conflicting key
 * in canonical (sorted) order.
 *
 * @since 0.1.0
 */
public class LockAcquisitionException extends LockingException {
    private static final long serialVersionUID = 1L;

    /** The key that was held by someone else. */
    private final String key;

    /**
     * Creates the exception for the key that could not be taken.
     *
     * @param key the first key, in sorted order, that is held by someone else
     */
    public LockAcquisitionException(String key) {
        super("Failed to acquire lock for key \"" + key + "\"");
        this.key = key;
    }

    /**
     * Returns the key that is held by someone else.
     *
     * @return the conflicting key
     */
    public String getKey() {
        return key;
    }
}
