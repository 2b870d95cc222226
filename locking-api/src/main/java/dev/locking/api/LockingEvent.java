package dev.locking.api;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One thing a {@link LockingService} did, as a {@link LockingListener} hears it.
 *
 * @param providerId the provider, such as {@code lp_redis}; a bounded set, fit for a metric tag
 * @param operation  which call
 * @param outcome    how it ended (or, in {@link LockingListener#onJobStarted}, {@link Outcome#TAKEN})
 * @param keys       the keys of the call, sorted and without duplicates: for tracing only, never a metric tag
 *                   (keys are unbounded)
 * @param waited     how long the call waited for its keys: from the start of the call to when it took them or
 *                   gave up; zero for a call that does not wait ({@code release}, {@code releaseAll}, an
 *                   {@code acquire} without a wait counts its one attempt)
 * @param held       for an {@code execute} whose job ran: from when it took its keys to when it released them
 *                   (or found them lost); zero otherwise
 * @param failure    what the call threw, for {@link Outcome#TIMEOUT}, {@link Outcome#LOST} and
 *                   {@link Outcome#ERROR}; {@code null} otherwise (also when an {@code execute}'s job threw:
 *                   the lock did its work, and the job's exception is the application's)
 * @since 0.2.0
 */
public record LockingEvent(String providerId, Operation operation, Outcome outcome, List<String> keys,
        Duration waited, Duration held, @Nullable Throwable failure) {

    /**
     * Copies the keys.
     *
     * @param providerId the provider's id
     * @param operation  what was called
     * @param outcome    how it ended
     * @param keys       the keys of the call
     * @param waited     how long it waited for the keys
     * @param held       how long a job held them
     * @param failure    what went wrong, or {@code null}
     */
    public LockingEvent {
        keys = List.copyOf(keys);
    }

    /** The operations a listener hears of. */
    public enum Operation {
        /** {@link LockingService#execute(String, LockedJob) execute}. */
        EXECUTE,
        /** {@link LockingService#acquire(String, AcquireOptions) acquire}. */
        ACQUIRE,
        /** {@link LockingService#release(String, ReleaseOptions) release}. */
        RELEASE,
        /** {@link LockingService#releaseAll(ReleaseAllOptions) releaseAll}. */
        RELEASE_ALL;

        /**
         * The lower-case name, as a metric tag value: {@code execute}, {@code acquire}, {@code release},
         * {@code release_all}.
         *
         * @return the tag value
         */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How an operation ended. */
    public enum Outcome {
        /**
         * The keys were taken: an {@code acquire} that returned a lease, an {@code execute} that held its keys
         * until its job ended (whether or not the job threw).
         */
        TAKEN,
        /** An {@code acquire} without a wait found a key held ({@link LockAcquisitionException}). */
        CONFLICT,
        /** The keys were not free within the timeout or wait ({@link LockTimeoutException}). */
        TIMEOUT,
        /** An {@code execute}'s lease was lost while the job ran ({@link LockLostException}). */
        LOST,
        /**
         * The call failed otherwise: the backend could not be reached, the wait was interrupted, the provider
         * answered with an error.
         */
        ERROR,
        /** A {@code release} that released every key, or a {@code releaseAll} that completed. */
        RELEASED,
        /** A {@code release} that left a key (not held, or held by another owner): it returned false. */
        NOT_RELEASED;

        /**
         * The lower-case name, as a metric tag value, such as {@code taken} or {@code not_released}.
         *
         * @return the tag value
         */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
