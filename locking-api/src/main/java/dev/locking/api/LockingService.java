package dev.locking.api;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Locks keys on one of several backends ("providers"), picked per call by id.
 *
 * <p>Get one from {@code dev.locking.core.Locking.create()} or {@code Locking.builder()}:
 *
 * <pre>{@code
 * try (LockingService locking = Locking.create()) {
 *     int left = locking.execute("stock:sku-17", lock -> reserveOne("sku-17"));
 * }
 * }</pre>
 *
 * <h2>Two ways to lock</h2>
 * <ul>
 *   <li>{@link #execute(String, LockedJob) execute} waits for the keys, runs a job, and always releases
 *       them. Its lease is renewed while the job runs. This is what most code wants.</li>
 *   <li>{@link #acquire(String, AcquireOptions) acquire} and {@link #release(String, ReleaseOptions) release}
 *       take and give back locks across calls, requests or processes, optionally under an owner id
 *       and with a lease. {@code acquire} does not wait unless given a
 *       {@linkplain AcquireOptions.Builder#wait(java.time.Duration) wait}: a held key fails at once.</li>
 * </ul>
 *
 * <h2>Share one LockingService</h2>
 * It is thread-safe and holds connections and a renewal thread: create one per application, share it,
 * and close it on shutdown.
 *
 * <h2>Leases expire</h2>
 * A lock with a lease is free once the lease lapses, whether or not its holder is done. Expiry is judged
 * by the backend's clock (or this JVM's, for {@code lp_memory}); a paused or partitioned holder can
 * outlive its lease. Pass {@link LockHandle#fencingToken(String)} to the protected resource when that
 * matters.
 *
 * <h2>close() closes the providers</h2>
 * After {@link #close()}, every call throws {@link IllegalStateException}. Locks held in memory by
 * {@code lp_memory} are gone; locks on a distributed backend stay until released or expired.
 *
 * <h2>Errors</h2>
 * Bad arguments (null or empty keys, a key or owner id over 1024 characters, a key or owner id with an
 * unpaired surrogate, a non-positive {@code expire}) throw {@link IllegalArgumentException} before any
 * backend is touched. Every other failure is a
 * {@link LockingException}.
 *
 * @since 0.1.0
 */
public interface LockingService extends AutoCloseable {

    /** The longest key accepted, in characters ({@code char}s, as {@link String#length()} counts). */
    int MAX_KEY_LENGTH = 1024;

    /**
     * The longest owner id accepted, in characters ({@code char}s, as {@link String#length()} counts).
     *
     * @since 0.2.0
     */
    int MAX_OWNER_ID_LENGTH = 1024;

    /**
     * Runs a job while one key is locked, with the default timeout, lease and provider.
     *
     * @param key the key to lock
     * @param job the job to run
     * @param <T> the job's result
     * @param <E> the checked exception the job may throw
     * @return the job's result
     * @throws E                    what the job threw, after the key was released
     * @throws LockTimeoutException if the key was not free within 5 seconds; the job did not run
     * @throws LockLostException    if the lease was lost while the job ran
     * @see #execute(Collection, LockedJob, ExecuteOptions)
     */
    default <T extends @Nullable Object, E extends Exception> T execute(String key, LockedJob<T, E> job) throws E {
        return execute(key, job, ExecuteOptions.DEFAULTS);
    }

    /**
     * Runs a job while one key is locked.
     *
     * @param key     the key to lock
     * @param job     the job to run
     * @param options timeout, lease and provider; {@code null} means {@link ExecuteOptions#DEFAULTS}
     * @param <T>     the job's result
     * @param <E>     the checked exception the job may throw
     * @return the job's result
     * @throws E                    what the job threw, after the key was released
     * @throws LockTimeoutException if the key was not free within the timeout; the job did not run
     * @throws LockLostException    if the lease was lost while the job ran
     * @see #execute(Collection, LockedJob, ExecuteOptions)
     */
    default <T extends @Nullable Object, E extends Exception> T execute(
            String key, LockedJob<T, E> job, @Nullable ExecuteOptions options) throws E {
        return execute(List.of(requireKey(key)), job, options);
    }

    /**
     * Runs a job while several keys are locked together, with the default timeout, lease and provider.
     *
     * @param keys the keys to lock; duplicates count once
     * @param job  the job to run
     * @param <T>  the job's result
     * @param <E>  the checked exception the job may throw
     * @return the job's result
     * @throws E                    what the job threw, after the keys were released
     * @throws LockTimeoutException if the keys were not all free within 5 seconds; the job did not run
     * @throws LockLostException    if the lease was lost while the job ran
     * @see #execute(Collection, LockedJob, ExecuteOptions)
     */
    default <T extends @Nullable Object, E extends Exception> T execute(Collection<String> keys, LockedJob<T, E> job)
            throws E {
        return execute(keys, job, ExecuteOptions.DEFAULTS);
    }

    /**
     * Waits until every key can be taken, runs the job on the calling thread, and releases the keys,
     * also when the job throws.
     *
     * <p>The keys are taken together, in sorted order, under a fresh internal owner, with a lease of
     * {@code expire} (default 30 s) that is renewed every third of it while the job runs. The wait lasts
     * up to {@code timeout} (default 5 s; zero or negative also means 5 s) and wakes when a key is
     * released, not only by polling.
     *
     * <p>If a renewal finds the lock gone, or a whole lease passes after the last renewal the backend
     * confirmed was sent (the first time: after the acquire was sent) without a newer confirmation,
     * {@link LockHandle#isLost()} turns true, the job's thread is interrupted, and {@code execute} throws
     * {@link LockLostException} once the job returns; its result is discarded and the interrupt this
     * library sent is cleared. The loss is noticed on time (within about 100 ms) whatever the renewal call
     * is doing, and a slow or hung provider never delays another provider's renewals.
     *
     * <p>If taking the keys fails without an answer from the backend (a timeout), the request may still
     * have taken them; this call's owner id is unique, so the keys are then released in the background,
     * retried with backoff until they are or the lease has passed. The same happens when the release
     * after the job fails. Neither delays the caller.
     *
     * <p>A job that calls {@code execute} again on keys its own call already holds (same thread, same
     * provider) runs at once; keys it does not hold yet are taken as usual and released at the end of
     * the nested call.
     *
     * @param keys    the keys to lock; duplicates count once
     * @param job     the job to run
     * @param options timeout, lease and provider; {@code null} means {@link ExecuteOptions#DEFAULTS}
     * @param <T>     the job's result
     * @param <E>     the checked exception the job may throw
     * @return the job's result
     * @throws E                            what the job threw, after the keys were released
     * @throws IllegalArgumentException     if a key is null, empty, too long or not well-formed UTF-16, the
     *                                      collection is empty, or {@code expire} is not positive
     * @throws LockTimeoutException         if the keys were not all free within the timeout; the job
     *                                      did not run and nothing stays locked
     * @throws LockLostException            if the lease was lost while the job ran
     * @throws ProviderNotFoundException    if {@code provider} names no configured provider
     * @throws ProviderUnavailableException if the backend cannot be reached
     * @throws LockingException             if the waiting thread is interrupted (the interrupt flag stays set)
     */
    <T extends @Nullable Object, E extends Exception> T execute(
            Collection<String> keys, LockedJob<T, E> job, @Nullable ExecuteOptions options) throws E;

    /**
     * Takes an anonymous lock on one key that never expires, on the default provider. Anyone may release
     * it; nobody can re-enter it.
     *
     * @param key the key
     * @return the lease
     * @throws LockAcquisitionException if the key is held
     * @see #acquire(Collection, AcquireOptions)
     */
    default Lease acquire(String key) {
        return acquire(key, AcquireOptions.DEFAULTS);
    }

    /**
     * Takes a lock on one key without waiting.
     *
     * @param key     the key
     * @param options owner, lease and provider; {@code null} means {@link AcquireOptions#DEFAULTS}
     * @return the lease
     * @throws LockAcquisitionException if the key is held by someone else
     * @see #acquire(Collection, AcquireOptions)
     */
    default Lease acquire(String key, @Nullable AcquireOptions options) {
        return acquire(List.of(requireKey(key)), options);
    }

    /**
     * Takes locks on every key at once: all or nothing. Without a {@link AcquireOptions#maxWait() wait} it makes
     * one attempt; with one it waits up to that long for the keys (the fair, release-woken wait of
     * {@code execute}), and a call that gives up (timeout, interrupt) leaves nothing locked.
     *
     * <p>The same non-null owner may acquire keys it already holds: with {@code expire} the lease is reset
     * to now + expire, without it the old expiry stays; fencing tokens do not change. A key held by another
     * owner, or anonymously, fails the whole call and changes nothing.
     *
     * @param keys    the keys; duplicates count once
     * @param options owner, lease and provider; {@code null} means {@link AcquireOptions#DEFAULTS}
     * @return the lease, with a fencing token per key
     * @throws IllegalArgumentException     if a key is null, empty, too long or not well-formed UTF-16, the
     *                                      collection is empty, the owner id is empty, too long, not
     *                                      well-formed UTF-16 or reserved, {@code expire} is not positive, or
     *                                      {@code wait} is negative
     * @throws LockAcquisitionException     without a wait: if a key is held by someone else (the first such key
     *                                      in sorted order)
     * @throws LockTimeoutException         with a wait: if the keys were not all free within it
     * @throws LockingException             with a wait: if the thread was interrupted while waiting (its
     *                                      interrupt flag stays set)
     * @throws ProviderNotFoundException    if {@code provider} names no configured provider
     * @throws ProviderUnavailableException if the backend cannot be reached
     */
    Lease acquire(Collection<String> keys, @Nullable AcquireOptions options);

    /**
     * Releases an anonymous lock on one key, on the default provider.
     *
     * @param key the key
     * @return true if the key was released
     * @see #release(Collection, ReleaseOptions)
     */
    default boolean release(String key) {
        return release(key, ReleaseOptions.DEFAULTS);
    }

    /**
     * Releases one key.
     *
     * @param key     the key
     * @param options owner and provider; {@code null} means {@link ReleaseOptions#DEFAULTS}
     * @return true if the key was released
     * @see #release(Collection, ReleaseOptions)
     */
    default boolean release(String key, @Nullable ReleaseOptions options) {
        return release(List.of(requireKey(key)), options);
    }

    /**
     * Releases keys. A key is released when it is held anonymously or by the given owner. A key held by
     * another owner is left alone, and so is an owned key when no owner is given.
     *
     * @param keys    the keys; duplicates count once
     * @param options owner and provider; {@code null} means {@link ReleaseOptions#DEFAULTS}
     * @return true only if every key was released; false if any key was not held or was left alone
     * @throws IllegalArgumentException     if a key is null, empty, too long or not well-formed UTF-16, the
     *                                      collection is empty, or the owner id is empty, too long, not
     *                                      well-formed UTF-16 or reserved
     * @throws ProviderNotFoundException    if {@code provider} names no configured provider
     * @throws ProviderUnavailableException if the backend cannot be reached
     */
    boolean release(Collection<String> keys, @Nullable ReleaseOptions options);

    /**
     * Releases every lock of the default provider (within its namespace or key prefix).
     *
     * @see #releaseAll(ReleaseAllOptions)
     */
    default void releaseAll() {
        releaseAll(ReleaseAllOptions.DEFAULTS);
    }

    /**
     * Releases every lock of one owner, or every lock when no owner is given. With an owner, the cost grows
     * with that owner's locks, not with all locks.
     *
     * @param options owner and provider; {@code null} means {@link ReleaseAllOptions#DEFAULTS}
     * @throws IllegalArgumentException     if the owner id is empty, too long, not well-formed UTF-16 or
     *                                      reserved
     * @throws ProviderNotFoundException    if {@code provider} names no configured provider
     * @throws ProviderUnavailableException if the backend cannot be reached
     */
    void releaseAll(@Nullable ReleaseAllOptions options);

    /**
     * Reports who holds a key on the default provider.
     *
     * @param key the key
     * @return the lock, or empty when the key is free
     * @see #inspect(String, String)
     */
    default Optional<LockInfo> inspect(String key) {
        return inspect(key, null);
    }

    /**
     * Reports who holds a key. The answer is a snapshot; the lock may change right after.
     *
     * @param key        the key
     * @param providerId the provider; {@code null} means the default provider
     * @return the lock, or empty when the key is free (or its lease has lapsed)
     * @throws IllegalArgumentException     if the key is null, empty, too long or not well-formed UTF-16
     * @throws ProviderNotFoundException    if {@code providerId} names no configured provider
     * @throws ProviderUnavailableException if the backend cannot be reached
     */
    Optional<LockInfo> inspect(String key, @Nullable String providerId);

    /**
     * Returns the ids of every configured provider, such as {@code [lp_memory, lp_redis]}.
     *
     * @return an unmodifiable sorted set
     */
    Set<String> providerIds();

    /**
     * Returns the id of the provider used when a call names none.
     *
     * @return the default provider id
     */
    String defaultProviderId();

    /**
     * Closes every provider and stops lease renewal. Idempotent. Later calls throw
     * {@link IllegalStateException}. The keys of {@code execute} calls still running are released first: their
     * handles turn lost, their jobs' threads are interrupted and those calls throw {@link LockLostException}.
     * Locks taken with {@code acquire} are left as they are (they outlive calls by design) until released or
     * their {@code expire} ends.
     */
    @Override
    void close();

    private static String requireKey(String key) {
        if (key == null) {
            throw new IllegalArgumentException("key must not be null");
        }
        return key;
    }
}
