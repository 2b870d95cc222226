package dev.locking.api;

/**
 * A piece of work that runs while its keys are locked, passed to
 * {@link LockingService#execute(String, LockedJob)}.
 *
 * <p>The job runs on the calling thread. It may throw a checked exception of type {@code E}; that
 * exception reaches the caller of {@code execute} unchanged, after the keys were released.
 *
 * @param <T> the job's result; {@code null} is allowed and returned as is
 * @param <E> the checked exception the job may throw ({@link RuntimeException} when none)
 * @since 0.1.0
 */
@FunctionalInterface
public interface LockedJob<T extends @org.jspecify.annotations.Nullable Object, E extends Exception> {

    /**
     * Runs the job while every key of the call is held.
     *
     * <p>A long job should check {@link LockHandle#isLost()} (or call {@link LockHandle#throwIfLost()})
     * before an effect that must not happen without the lock, and pass
     * {@link LockHandle#fencingToken(String)} to a resource that can reject stale writers.
     *
     * @param lock what the job can ask about the locks it runs under
     * @return the job's result, returned by {@code execute}
     * @throws E when the job fails; the keys are released before it reaches the caller
     */
    T run(LockHandle lock) throws E;
}
