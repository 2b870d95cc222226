package dev.locking.hazelcast;

import com.hazelcast.nio.serialization.HazelcastSerializationException;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCalls;

/**
 * What {@code lp_hazelcast} reports when something goes wrong: Hazelcast's exceptions turned into the SPI's
 * (the {@link BackendCalls.Translator} of the provider), and a key that holds data this provider did not
 * write.
 *
 * <p>The rule: a failure that says the cluster cannot be reached (or did not answer) is a
 * {@link ProviderUnavailableException}, which the core may retry; a failure that retrying will not mend (a
 * member without this jar, foreign data, a refused argument, an interrupt) is a plain
 * {@link LockingException}. Hazelcast reports a stopped instance or an offline client with subclasses of
 * {@link IllegalStateException}, which {@link BackendCalls} would pass on as they are; so every Hazelcast
 * call of this provider translates its failures where it is made ({@link #translated}).
 *
 * <p>Concurrency: immutable.
 */
final class Failures implements BackendCalls.Translator {

    private final String id;
    private final String mapName;

    Failures(String id, String mapName) {
        this.id = id;
        this.mapName = mapName;
    }

    /** A blocking Hazelcast call whose failures are translated (see the class comment). */
    interface HazelcastCall<R> {
        R call();
    }

    /** Wraps a Hazelcast call for {@link BackendCalls#call}, translating its failures. */
    <R> BackendCalls.Call<R> translated(HazelcastCall<R> call, String operation) {
        return () -> {
            try {
                return call.call();
            } catch (RuntimeException e) {
                throw translate(e, operation);
            }
        };
    }

    @Override
    public RuntimeException translate(Throwable failure, String operation) {
        if (failure instanceof LockingException locking) {
            return locking;
        }
        if (causedBy(failure, InterruptedException.class)) {
            return interrupted(operation, failure); // Hazelcast keeps the flag set
        }
        String where = id + ": " + operation + " failed";
        if (isMissingClass(failure)) {
            return new LockingException(where + ": a member could not load Locking's classes; put the"
                    + " locking-provider-hazelcast jar on the classpath of every member (" + failure + ")", failure);
        }
        if (failure instanceof IllegalArgumentException || failure instanceof UnsupportedOperationException
                || failure instanceof ClassCastException || failure instanceof NullPointerException) {
            return new LockingException(where + ": " + failure, failure);
        }
        return new ProviderUnavailableException(where + ": " + failure, failure);
    }

    /**
     * A call whose wait for Hazelcast's answer an interrupt ended, and that is not sent again (a release, see
     * {@link KeySteps}): the member may still carry it out. The caller's own interrupt, not an unreachable
     * cluster: a plain {@link LockingException}, where a timeout is a {@link ProviderUnavailableException}.
     */
    LockingException interrupted(String operation, Throwable cause) {
        return new LockingException(id + ": " + operation + " failed: interrupted while waiting for Hazelcast's"
                + " answer; the call may still take effect (a lock it takes lapses with its lease)", cause);
    }

    /**
     * A key that holds a value this provider did not write: the step changed nothing there. Not a
     * {@link ProviderUnavailableException}: the backend answered, and retrying will not help.
     */
    LockingException foreign(String key, Outcome outcome, String what) {
        return new LockingException(id + ": " + what + " \"" + key + "\" failed: the key holds data that is not a"
                + " lock of this provider (" + outcome.detail() + ") in map " + mapName + "; it was left as it is."
                + " Remove it, or give this provider a map of its own (option mapName)");
    }

    /** Whether the failure or one of its causes is of the type. */
    static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    private static boolean isMissingClass(Throwable failure) {
        return causedBy(failure, HazelcastSerializationException.class)
                || causedBy(failure, ClassNotFoundException.class) || causedBy(failure, NoClassDefFoundError.class);
    }
}
