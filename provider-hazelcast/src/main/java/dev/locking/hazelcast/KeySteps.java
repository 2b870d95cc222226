package dev.locking.hazelcast;

import com.hazelcast.map.EntryProcessor;
import dev.locking.api.LockingException;
import dev.locking.hazelcast.LockProcessors.Release;
import dev.locking.hazelcast.LockProcessors.Watch;
import dev.locking.hazelcast.Outcome.Status;
import dev.locking.spi.support.BackendCalls;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * How the steps of {@link LockProcessors} reach their keys: every Hazelcast call of the provider goes through
 * its {@link BackendCalls}, so it waits at most {@code operationTimeout} for an answer, and an interrupt
 * never cuts short a step that changes locks.
 *
 * <h2>Synchronous where possible</h2>
 * A step on one key is a synchronous Hazelcast call ({@link BackendCalls#call}) wherever
 * {@link Backend#direct} allows it: the answer arrives on the calling thread with no future in between.
 * Hazelcast completes the future of an asynchronous call through its default async executor, which on a
 * machine with at most two cores starts a thread per call (elsewhere it is a hand-over to the common pool).
 * A member calls keys that other members own asynchronously. A step on several keys (a multi-key
 * {@code tryAcquire}, {@code release}, {@code extend}, {@code releaseAll(owner)}, a waiter's mark) is one
 * {@code executeOnKeys} call ({@link #all}), which reaches every partition at once: one round trip where the
 * keys one after another took one per key. Hazelcast completes even its synchronous {@code executeOnKeys}
 * through one such future, so a call on several keys costs one thread start on a small machine, where each
 * key sent on its own cost one per key (each started by the client's single response thread). It is
 * synchronous from a client when it may be sent again, else awaited until the deadline
 * ({@link BackendCalls#await(CompletionStage, String)}).
 *
 * <h2>Sent again after an interrupt</h2>
 * Every step but a release may run twice: an acquire recognises the lock its own call took by the call's
 * nonce, a rollback names the token it undoes (or the exact lock it restores), and the others only read,
 * mark or set a lease. So when an interrupt ends a synchronous call's wait, {@link BackendCalls} runs it
 * again on a thread that nothing interrupts, and the flag stays set for the caller. A release is not sent
 * again: the key may have been taken anew meanwhile, by an anonymous lock that a second release would free.
 * It fails with a {@link LockingException} instead (it may still take effect).
 *
 * <p>Concurrency: immutable, safe for concurrent use.
 */
final class KeySteps {

    private final BackendCalls calls;
    private final Failures failures;

    KeySteps(BackendCalls calls, Failures failures) {
        this.calls = calls;
        this.failures = failures;
    }

    /** One step on one key, synchronous where {@link Backend#direct} allows it, else awaited. */
    Outcome one(Backend b, String key, EntryProcessor<String, LockEntry, Outcome> step, String what) {
        String operation = operation(what, key);
        if (!b.direct(key)) {
            return calls.await(submit(() -> b.locks.submitToKey(key, step), operation), operation);
        }
        // A release is not sent again after an interrupt: the key may have been taken anew meanwhile, by an
        // anonymous lock that a second release would free. The toolkit then reports it may still take effect.
        return blocking(() -> b.locks.executeOnKey(key, step), operation, !(step instanceof Release));
    }

    /**
     * Runs one step on each key and counts the keys where it took effect ({@link Status#DONE}). One key is
     * {@link #one}; several keys are one call ({@link #all}).
     *
     * @param failOnForeign whether a key holding foreign data fails the call (after every answer came)
     */
    int each(Backend b, List<String> keys, EntryProcessor<String, LockEntry, Outcome> step, String what,
            boolean failOnForeign) {
        List<Outcome> outcomes = keys.size() == 1 ? List.of(one(b, keys.get(0), step, what))
                : all(b, keys, step, what, !(step instanceof Release));
        int done = 0;
        LockingException foreign = null;
        for (int i = 0; i < keys.size(); i++) {
            Outcome outcome = outcomes.get(i);
            done += outcome.status() == Status.DONE ? 1 : 0;
            if (failOnForeign && foreign == null && outcome.status() == Status.FOREIGN) {
                foreign = failures.foreign(keys.get(i), outcome, what);
            }
        }
        if (foreign != null) {
            throw foreign;
        }
        return done;
    }

    /**
     * Marks the keys as waited for (see {@link Watch}) and reads their state, in one call (see {@link #all}).
     */
    Map<String, Outcome> watch(Backend b, List<String> keys) {
        if (keys.size() == 1) {
            String key = keys.get(0);
            return Map.of(key, one(b, key, new Watch(), "inspect"));
        }
        return sendAll(b, keys, new Watch(), "inspect " + keys, true);
    }

    /**
     * Runs one step on several keys in one Hazelcast call ({@code executeOnKeys}), which reaches all their
     * partitions at once. The step must keep per key what its backups apply (as {@link LockProcessors.Mutating}
     * does): Hazelcast asks it for one backup processor per partition. Every key has an answer, or the call
     * fails as a whole.
     *
     * <p>A repeatable step from a client is a synchronous call (an interrupt sends it again, see the class
     * comment). A member's call, whose keys may live on other members, and a release, which must not be sent
     * twice, are asynchronous and awaited without answering interrupts until the deadline. Either way one
     * future completes the whole call (see the class comment).
     *
     * @param repeatable whether the step may run twice on a key (see the class comment)
     * @return the answers, in the order of {@code keys}
     */
    List<Outcome> all(Backend b, List<String> keys, EntryProcessor<String, LockEntry, Outcome> step, String what,
            boolean repeatable) {
        String operation = what + " " + keys;
        Map<String, Outcome> answers = sendAll(b, keys, step, operation, repeatable);
        List<Outcome> outcomes = new ArrayList<>(keys.size());
        for (String key : keys) {
            Outcome outcome = answers.get(key);
            if (outcome == null) {
                throw new LockingException("Hazelcast gave no answer for \"" + key + "\" to " + operation);
            }
            outcomes.add(outcome);
        }
        return outcomes;
    }

    private Map<String, Outcome> sendAll(Backend b, List<String> keys, EntryProcessor<String, LockEntry, Outcome> step,
            String operation, boolean repeatable) {
        Set<String> keySet = new LinkedHashSet<>(keys);
        if (b.member || !repeatable) {
            return calls.await(submit(() -> b.locks.submitToKeys(keySet, step), operation), operation);
        }
        return blocking(() -> b.locks.executeOnKeys(keySet, step), operation, true);
    }

    /**
     * Makes a blocking Hazelcast call through {@link BackendCalls#call}, with its failures translated.
     *
     * @param repeatable whether the call may be sent a second time (see the class comment)
     */
    <R> R blocking(Failures.HazelcastCall<R> call, String operation, boolean repeatable) {
        return calls.call(failures.translated(call, operation), operation, repeatable);
    }

    /**
     * Sends a call and returns a future of our own for its answer, with its failure translated. Waiting never
     * touches Hazelcast's future: an interrupted {@code get} on it completes it with the
     * {@link InterruptedException}, and every later {@code get} would throw that again.
     */
    private <R> CompletableFuture<R> submit(Supplier<CompletionStage<R>> call, String operation) {
        CompletableFuture<R> answer = new CompletableFuture<>();
        try {
            // Run the callback on the thread that completes Hazelcast's future: a plain whenComplete goes to
            // Hazelcast's default async executor, which starts a new thread per task where the common pool has
            // one thread (every 2-CPU machine). The callback only completes our own future. (The future
            // Hazelcast returns still hands its own completion to that executor; that is why calls on one key
            // are synchronous.)
            call.get().whenCompleteAsync((@Nullable R result, @Nullable Throwable failure) -> {
                if (failure != null) {
                    answer.completeExceptionally(translate(failure, operation));
                } else {
                    answer.complete(result);
                }
            }, Runnable::run);
        } catch (RuntimeException e) {
            answer.completeExceptionally(translate(e, operation));
        }
        return answer;
    }

    /** Names a step on a key in messages: {@code acquire "k"}. */
    private static String operation(String what, String key) {
        return what + " \"" + key + "\"";
    }

    private RuntimeException translate(Throwable failure, String operation) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
                : failure;
        return failures.translate(cause, operation);
    }
}
