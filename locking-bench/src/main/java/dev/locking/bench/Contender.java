package dev.locking.bench;

import java.util.List;

/**
 * One way to lock that the bench measures: our provider through a {@code LockingService}, or a peer
 * library on the same backend.
 *
 * <p>Concurrency: implementations are safe for concurrent use by the workload's threads.
 */
interface Contender {
    /** The name in tables and charts, such as {@code lp_redis} or {@code Redisson RLock}. */
    String name();

    /** The name when {@link #locked} takes several keys, such as {@code RedissonMultiLock}. */
    default String multiName() {
        return name();
    }

    /** Whether this is one of ours (as opposed to a peer or the floor). */
    boolean ours();

    /** Whether {@link #locked} can wait for locks (a floor that only tries cannot): W3, W4, W7 and W8. */
    default boolean waits() {
        return true;
    }

    /**
     * Takes a lock on a key nobody else uses and releases it (W1, W2).
     *
     * @throws Exception if the lock was not taken or not released
     */
    void cycle(String key) throws Exception;

    /**
     * Waits until every key is locked, taking them in the order given, runs the section, and releases them
     * (W3, W4). A peer waits with its timed call ({@code tryLock(time)}, {@code acquire(time)}) and gives up
     * at {@code giveUpNanos} (a {@link System#nanoTime()} value), so a peer that deadlocks stops by itself
     * (RedissonMultiLock's {@code lock()} swallows interrupts, so interrupting it is not enough); ours waits
     * with {@code execute}'s own timeout and answers interrupts.
     *
     * @throws UnsupportedOperationException if this contender has no way to wait for locks
     * @throws java.util.concurrent.TimeoutException if a peer gave up
     * @throws Exception                     if the wait failed or was interrupted
     */
    void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception;
}
