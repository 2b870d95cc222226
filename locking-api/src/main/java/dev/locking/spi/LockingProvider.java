package dev.locking.spi;

import dev.locking.api.LockInfo;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * One backend's atomic lock operations, used by the core's {@code LockingService}.
 *
 * <h2>What the core guarantees</h2>
 * <ul>
 *   <li>Keys are validated (non-empty, at most {@link dev.locking.api.LockingService#MAX_KEY_LENGTH}
 *       = 1024 characters, well-formed UTF-16: no unpaired surrogate), without duplicates and sorted;
 *       the list is never empty.</li>
 *   <li>A lease, when given, is positive. An owner id, when given, is non-empty, at most
 *       {@link dev.locking.api.LockingService#MAX_OWNER_ID_LENGTH} = 1024 characters and well-formed
 *       UTF-16, so a backend that stores strings as UTF-8 keeps every key and owner exactly, and two
 *       different keys or owners never end up as one. (A key may still hold any other character,
 *       NUL and separators included; encoding it for the backend is the provider's job.)</li>
 *   <li>The core waits, renews leases, handles nested calls and logs; the provider does not.</li>
 * </ul>
 *
 * <h2>What the provider must do</h2>
 * <ul>
 *   <li>Be safe for concurrent use by many threads.</li>
 *   <li>Make each method one atomic step on the backend as far as it can: {@link #tryAcquire} is
 *       all or nothing and never waits for a held key.</li>
 *   <li>Give fencing tokens that strictly increase per key, across release and expiry.</li>
 *   <li>Report an unreachable backend as {@link dev.locking.api.ProviderUnavailableException} within a
 *       bounded time, never hang.</li>
 *   <li>Connect lazily, on first use.</li>
 * </ul>
 *
 * <h2>Owners</h2>
 * A key held by a non-null owner can be re-acquired, extended and released by that owner only. A key
 * held anonymously ({@code ownerId == null}) is re-entered by nobody and released by anyone.
 *
 * <h2>Locks taken by execute</h2>
 * The core takes the locks of {@code execute} under a fresh owner id that starts with
 * {@link #EXECUTE_OWNER_PREFIX}, and renews them with {@link #extend} while the job runs; applications
 * cannot pass such owner ids. A provider may tie these locks to its client's lifetime (ZooKeeper makes
 * them ephemeral nodes), since nobody but the running job can use them.
 *
 * @since 0.1.0
 */
public interface LockingProvider extends AutoCloseable {

    /**
     * The prefix of every owner id under which the core's {@code execute} takes locks, followed by a
     * unique id of the service and a counter. Owner ids passed by applications never start with it.
     */
    String EXECUTE_OWNER_PREFIX = "exec:";

    /**
     * Returns this instance's id, as given in its {@link ProviderConfig}.
     *
     * @return the id, such as {@code lp_redis}
     */
    String id();

    /**
     * Makes one atomic attempt to take every key. Never waits.
     *
     * <ul>
     *   <li>A free key (never held, released, or whose lease lapsed) is taken with a new, higher
     *       fencing token.</li>
     *   <li>A key held by the same non-null owner is re-entered: with a lease, its expiry becomes
     *       now + lease; without one, the old expiry stays; the token does not change.</li>
     *   <li>Any other held key makes the whole attempt a {@link AcquireResult.Conflict}, and no key
     *       changes.</li>
     * </ul>
     *
     * @param keys    sorted, distinct, validated keys
     * @param ownerId the owner, or {@code null} for an anonymous lock
     * @param lease   the lease, or {@code null} for a lock that never expires
     * @return the tokens and expiry, or the first conflicting key
     */
    AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease);

    /**
     * Resets the lease of keys held by this owner to now + lease, only if the owner still holds every
     * one of them.
     *
     * @param keys    sorted, distinct, validated keys
     * @param ownerId the owner that holds them
     * @param lease   the new lease, positive
     * @return true if every key was held by the owner and extended; false if any was not (then the
     *         ones still held may or may not have been extended)
     */
    boolean extend(List<String> keys, String ownerId, Duration lease);

    /**
     * Releases every key held anonymously or by the given owner; leaves keys held by other owners
     * alone, and owned keys when {@code ownerId} is null.
     *
     * @param keys    sorted, distinct, validated keys
     * @param ownerId the owner, or {@code null}
     * @return true only if every key was released
     */
    boolean release(List<String> keys, @Nullable String ownerId);

    /**
     * Releases every lock of an owner, or every lock of this provider (within its namespace) when
     * {@code ownerId} is null. With an owner, the cost must grow with that owner's locks only.
     *
     * @param ownerId the owner, or {@code null} for all
     */
    void releaseAll(@Nullable String ownerId);

    /**
     * Reports who holds a key.
     *
     * @param key a validated key
     * @return the lock, or empty when the key is free or its lease has lapsed
     */
    Optional<LockInfo> inspect(String key);

    /**
     * Blocks until one of the keys may have become free (released or expired), or {@code maxWait}
     * passed, whichever is first. Spurious early returns are allowed: the core calls
     * {@link #tryAcquire} again after each return. It should wake on a release notification, not
     * only by polling.
     *
     * @param keys    keys the caller waits for, sorted and distinct
     * @param maxWait the longest wait, positive
     * @throws InterruptedException if the thread is interrupted while waiting
     */
    void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException;

    /**
     * Whether the backend keeps a queue of waiting owners per key and, in the same atomic step as a release,
     * hands the released key to the longest live waiter (new owner, new fencing token, a short first lease).
     * The core then waits for single-key {@code execute} calls through {@link #acquireOrQueue},
     * {@link #awaitGrant} and {@link #leaveQueue} instead of {@link #tryAcquire} and {@link #awaitRelease}.
     * The default, {@code false}, keeps the notification path; a provider needs none of the methods below.
     *
     * <p>A provider that answers {@code true} keeps these rules besides those of each method:
     * <ul>
     *   <li><b>The hand-off.</b> Every path that frees a key ({@link #release}, {@link #releaseAll} with or
     *       without an owner, {@link #leaveQueue} of a holder) does, in the same atomic step: drop the lapsed
     *       entries at the head of the key's queue; give the key to the first live entry's owner, with a new,
     *       strictly greater fencing token and the lease {@code min(lease, stay)} of that entry (a short first
     *       lease: a waiter that died blocks the key for at most its stay; the core renews a granted key
     *       early); remove that entry; and tell only that owner (key, owner, token and expiry or remaining
     *       lease). A release that nobody queues for sends no grant message.</li>
     *   <li><b>No barging.</b> A plain {@link #tryAcquire} (of one key or several) answers
     *       {@link AcquireResult.Conflict} on a key with a live queue entry. Multi-key calls keep the
     *       notification path: all or nothing, and they may wait behind a queue.</li>
     *   <li><b>Expiry.</b> When a holder's lease runs out with a queue, the next {@code acquireOrQueue} of the
     *       live head takes the key (so within one of the core's wait slices); a backend that can act on
     *       expiry may hand it off at once.</li>
     *   <li><b>Tokens</b> strictly increase per key across direct takes, grants, releases and expiry, from the
     *       counter {@link #tryAcquire} uses.</li>
     *   <li><b>Data.</b> Keys and owners are stored exactly; queue entries of a foreign or corrupt shape are
     *       handled as the provider handles other foreign data (a clear error, nothing overwritten).</li>
     * </ul>
     *
     * @return whether the provider hands released keys to queued waiters
     * @since 0.2.0
     */
    default boolean handsOff() {
        return false;
    }

    /**
     * One atomic step on one key:
     * <ul>
     *   <li>the owner holds the key already (it was handed to it since its previous call) &rarr;
     *       {@link AcquireResult.Acquired} with its token and expiry;</li>
     *   <li>the key is free (never held, released, or its lease lapsed) and no live queue entry of another
     *       owner stands before this owner's &rarr; takes it with the full {@code lease} and a new, strictly
     *       greater fencing token (the counter of {@link #tryAcquire}), drops the owner's queue entry if any,
     *       and answers {@link AcquireResult.Acquired};</li>
     *   <li>otherwise adds the owner at the tail of the key's queue, or renews its entry where it stands (it
     *       keeps its place), the entry lapsing {@code stay} from now by the backend's clock &rarr;
     *       {@link AcquireResult.Conflict}. A hand-off skips lapsed entries.</li>
     * </ul>
     *
     * @param key     a validated key
     * @param ownerId the waiting owner (an {@code execute} owner: unique to one call)
     * @param lease   the lease of a direct take, positive; a grant gets {@code min(lease, stay)}
     * @param stay    how long the queue entry lasts without another call, positive
     * @return {@link AcquireResult.Acquired} when the owner holds the key now (taken by this call, or
     *         handed to it since its previous call), else {@link AcquireResult.Conflict} (queued)
     * @since 0.2.0
     */
    default AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
        return tryAcquire(List.of(key), ownerId, lease);
    }

    /**
     * Waits until the backend hands the key to this owner, or {@code maxWait} passed. A grant made after
     * the owner's {@link #acquireOrQueue} answered Conflict but before this call started is not lost: it is
     * returned at once (register before the backend step, or keep recent grants by owner). Spurious early
     * {@code null}s are allowed: the core calls {@code acquireOrQueue} again after each, which also finds
     * a grant whose message was lost.
     *
     * @param key     the key the owner queues for
     * @param ownerId the queued owner
     * @param maxWait the longest wait, positive
     * @return the grant (tokens and expiry), or {@code null} when none came in time
     * @throws InterruptedException if the thread is interrupted while waiting
     * @since 0.2.0
     */
    default AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
            throws InterruptedException {
        awaitRelease(List.of(key), maxWait);
        return null;
    }

    /**
     * One atomic step: takes the owner out of the key's queue (it gave up: timeout, interrupt, failure) and,
     * if the owner holds the key, releases it, which hands it on as every release does. That covers a key
     * handed to the owner meanwhile, and one it took directly through an {@link #acquireOrQueue} whose reply
     * was lost. Idempotent.
     *
     * @param key     the key the owner queued for
     * @param ownerId the owner
     * @since 0.2.0
     */
    default void leaveQueue(String key, String ownerId) {}

    /**
     * Releases connections, threads and other resources. Idempotent; no checked exception. Locks held
     * on a distributed backend are not released.
     */
    @Override
    void close();
}
