package dev.locking.api;

import java.util.List;

/**
 * What a running {@link LockedJob} can ask about the locks it runs under.
 *
 * <p>A handle is valid only while its job runs. It is safe to read from any thread: the core marks
 * it lost from its own scheduler thread.
 *
 * @since 0.1.0
 */
public interface LockHandle {

    /**
     * Returns the id of the provider that holds the locks, such as {@code lp_memory}.
     *
     * @return the provider id
     */
    String providerId();

    /**
     * Returns the locked keys, sorted and without duplicates.
     *
     * @return an unmodifiable sorted list of the keys
     */
    List<String> keys();

    /**
     * Returns the fencing token of one locked key: a number that strictly increases every time the
     * key is taken anew, so a protected resource can refuse a write carrying an older token.
     *
     * @param key one of {@link #keys()}
     * @return the key's fencing token
     * @throws IllegalArgumentException if {@code key} is not one of {@link #keys()}
     */
    long fencingToken(String key);

    /**
     * Tells whether the lease was lost: a renewal found the lock gone (expired, deleted or taken by
     * someone else), or no renewal was confirmed in time: the handle turns lost one lease after the last
     * confirmed renewal was <em>sent</em> (the first time: after the acquire was sent), whatever the
     * renewal call in progress is doing. Once true, it stays true; an answer that arrives later does not
     * undo it.
     *
     * @return true when the job no longer holds its keys for certain
     */
    boolean isLost();

    /**
     * Throws when the lease was lost, so a job can stop before an effect that needs the lock.
     *
     * @throws LockLostException if {@link #isLost()} is true
     */
    void throwIfLost();
}
