package dev.locking.spi.support;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.locking.api.LockingException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The one way a provider calls its backend: every call is bounded by a deadline, and an interrupt of the
 * calling thread cannot cut short a call that changes locks.
 *
 * <p>Why: a request that reached the server takes effect whether or not the client still waits. If an
 * interrupt made the client give up on an acquire, the server would hold a lock that the caller, told
 * "failed", never releases. So a call that changes locks is waited for to its answer or its deadline, and
 * the interrupt is kept for the caller's next blocking call. A call that got no answer throws
 * {@link BackendCallException}, which says whether the call {@linkplain BackendCallException#mayHaveTakenEffect
 * may have taken effect}.
 *
 * <ul>
 *   <li>{@link #await(CompletionStage, String)}: the reply of an asynchronous client (a future), waited for
 *       without answering interrupts until the deadline.</li>
 *   <li>{@link #awaitRead(CompletionStage, String)}: the reply of a call that changes nothing, so an
 *       interrupt may end the wait.</li>
 *   <li>{@link #call(Call, String, boolean)}: a blocking client's synchronous call, made on the caller's
 *       thread (no thread hop) and cut off at its deadline. If an interrupt from another thread ends the
 *       client's wait, a call that may be sent again ({@code repeatable}: it recognises its own earlier
 *       attempt, for example by a nonce) runs again on a thread of this object that nothing interrupts;
 *       any other call throws a {@link LockingException} saying that it may still take effect.</li>
 * </ul>
 *
 * <pre>{@code
 * BackendCalls calls = new BackendCalls("lp_example", "Example", Duration.ofSeconds(5),
 *         (failure, operation) -> new ProviderUnavailableException(
 *                 "lp_example: Example failed in " + operation + ": " + failure, failure));
 *
 * Reply r = calls.await(client.acquireAsync(keys, owner, nonce), "acquire");       // asynchronous client
 * Reply s = calls.call(() -> client.acquire(keys, owner, nonce), "acquire", true);  // blocking client
 * }</pre>
 *
 * <p>Failures: a {@link LockingException}, {@link IllegalArgumentException} or {@link IllegalStateException}
 * thrown by the call passes through; any other failure (unwrapped from {@link ExecutionException} and
 * {@link CompletionException}) goes to the provider's {@link Translator}, which knows its client's
 * exceptions.
 *
 * <p>Concurrency: safe for concurrent use. The recovery pool is made on first need under {@code poolLock};
 * the deadline watcher is a daemon thread started on first synchronous call. {@link #close()} stops both.
 *
 * @since 0.2.0
 */
public final class BackendCalls implements AutoCloseable {

    /** A blocking call to the backend. */
    @FunctionalInterface
    public interface Call<T> {
        /**
         * Makes the call.
         *
         * @return the backend's answer
         * @throws Exception whatever the client throws
         */
        T call() throws Exception;
    }

    /** A blocking call to the backend that answers nothing. */
    @FunctionalInterface
    public interface Action {
        /**
         * Makes the call.
         *
         * @throws Exception whatever the client throws
         */
        void run() throws Exception;
    }

    /** Turns a client's failure into what the SPI reports. */
    @FunctionalInterface
    public interface Translator {
        /**
         * Maps a failure.
         *
         * @param failure   the client's exception, unwrapped
         * @param operation the operation that failed
         * @return the exception to throw, typically a {@link dev.locking.api.ProviderUnavailableException}
         */
        RuntimeException translate(Throwable failure, String operation);
    }

    private final String providerId;
    private final String backend;
    private final long boundNanos;
    private final Duration bound;
    private final Translator translator;
    private final CallDeadlines deadlines;
    private final Object poolLock = new Object();

    @GuardedBy("poolLock")
    private @Nullable ExecutorService recovery;

    @GuardedBy("poolLock")
    private boolean closed;

    /**
     * Creates the calls of one provider instance.
     *
     * @param providerId the provider's id, for messages and thread names
     * @param backend    the backend's name for messages, such as {@code Redis}
     * @param bound      the longest any call may take, positive
     * @param translator maps the client's failures
     */
    public BackendCalls(String providerId, String backend, Duration bound, Translator translator) {
        this.providerId = Objects.requireNonNull(providerId, "providerId");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.bound = Objects.requireNonNull(bound, "bound");
        this.boundNanos = Leases.toNanos(bound);
        this.translator = Objects.requireNonNull(translator, "translator");
        this.deadlines = new CallDeadlines("locking-deadlines-" + providerId);
    }

    /**
     * The longest a call may take.
     *
     * @return the bound given at construction
     */
    public Duration bound() {
        return bound;
    }

    /**
     * The deadline of a call that starts now, in {@link System#nanoTime()} terms, for several calls that
     * share one deadline.
     *
     * @return now plus the bound
     */
    public long deadline() {
        return System.nanoTime() + boundNanos;
    }

    /**
     * Waits for the reply of a call that may change locks, until the bound, without answering interrupts
     * (the flag is set again before returning).
     *
     * @param reply     the client's future
     * @param operation names the call in messages
     * @param <T>       the reply's type
     * @return the reply
     * @throws BackendCallException if no reply came in time (it may have taken effect)
     */
    public <T> T await(CompletionStage<T> reply, String operation) {
        return await(reply, deadline(), operation);
    }

    /**
     * Like {@link #await(CompletionStage, String)}, until a deadline shared with other calls.
     *
     * @param reply          the client's future
     * @param deadlineNanos  the deadline, from {@link #deadline()}
     * @param operation      names the call in messages
     * @param <T>            the reply's type
     * @return the reply
     * @throws BackendCallException if no reply came in time (it may have taken effect)
     */
    public <T> T await(CompletionStage<T> reply, long deadlineNanos, String operation) {
        CompletableFuture<T> future = reply.toCompletableFuture();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true; // keep waiting: the request is on its way
                } catch (ExecutionException | CancellationException e) {
                    throw failure(e, operation);
                } catch (TimeoutException e) {
                    throw noAnswer(operation, true, e);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Waits for the reply of a call that changes nothing, until the bound; an interrupt ends the wait.
     *
     * @param reply     the client's future
     * @param operation names the call in messages
     * @param <T>       the reply's type
     * @return the reply
     * @throws InterruptedException if the thread is interrupted while waiting
     * @throws BackendCallException if no reply came in time
     */
    public <T> T awaitRead(CompletionStage<T> reply, String operation) throws InterruptedException {
        try {
            return reply.toCompletableFuture().get(boundNanos, TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CancellationException e) {
            throw failure(e, operation);
        } catch (TimeoutException e) {
            throw noAnswer(operation, false, e);
        }
    }

    /**
     * Makes a blocking client call on this thread, cut off at the bound. An interrupt already pending is
     * kept for later and does not disturb the call. If an interrupt arrives during the call and ends the
     * client's wait, a {@code repeatable} call runs again on a thread that nothing interrupts and is waited
     * for; otherwise it throws a {@link LockingException} saying that it may still take effect (not a
     * {@link BackendCallException}: the backend may be reachable, the caller's interrupt ended the wait). The
     * interrupt flag is set again afterwards.
     *
     * @param call       the call
     * @param operation  names the call in messages
     * @param repeatable whether sending the call a second time is safe (it recognises its own first attempt)
     * @param <T>        the answer's type
     * @return the answer
     * @throws BackendCallException if no answer came in time
     * @throws LockingException     if an interrupt ended a call that is not repeatable
     */
    public <T> T call(Call<T> call, String operation, boolean repeatable) {
        boolean interrupted = Thread.interrupted();
        try {
            return callOnThisThread(call, operation, deadline());
        } catch (CutShort e) {
            interrupted = true;
            if (!repeatable) {
                // Not "unavailable": the backend may be fine; the caller's interrupt ended the wait.
                throw new LockingException(providerId + ": interrupted while waiting for " + backend
                        + "'s answer to " + operation + "; it may still take effect", e.getCause());
            }
            return again(call, operation);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Like {@link #call(Call, String, boolean)}, for a call that answers nothing.
     *
     * @param action     the call
     * @param operation  names the call in messages
     * @param repeatable whether sending the call a second time is safe
     * @throws BackendCallException if no answer came in time
     * @throws LockingException     if an interrupt ended a call that is not repeatable
     */
    public void run(Action action, String operation, boolean repeatable) {
        call(() -> {
            action.run();
            return Boolean.TRUE;
        }, operation, repeatable);
    }

    /** Stops the deadline watcher and the recovery threads. Idempotent. */
    @Override
    public void close() {
        deadlines.close();
        synchronized (poolLock) {
            closed = true;
            if (recovery != null) {
                recovery.shutdown();
            }
        }
    }

    private <T> T callOnThisThread(Call<T> call, String operation, long deadline) {
        CallDeadlines.Call watched = deadlines.begin(deadline);
        boolean ended = false;
        try {
            T answer = call.call();
            ended = true;
            deadlines.end(watched); // an answer that came just as the deadline passed still counts
            return answer;
        } catch (Exception e) {
            ended = true;
            if (deadlines.end(watched)) {
                throw noAnswer(operation, true, e);
            }
            if (byInterrupt(e)) {
                Thread.interrupted();
                throw new CutShort(e);
            }
            throw failure(e, operation);
        } finally {
            if (!ended) {
                deadlines.end(watched);
            }
        }
    }

    /** Runs a repeatable call again on a recovery thread and waits for it without answering interrupts. */
    private <T> T again(Call<T> call, String operation) {
        long deadline = deadline();
        Future<T> future;
        try {
            future = recoveryPool().submit(() -> {
                try {
                    return callOnThisThread(call, operation, deadline);
                } catch (CutShort e) {
                    // Nothing interrupts this thread but the pool's shutdown (the provider closes).
                    throw new IllegalStateException(providerId + " is closed", e.getCause());
                }
            });
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException(providerId + " is closed", e);
        }
        while (true) {
            try {
                return future.get();
            } catch (InterruptedException e) {
                // Still waiting for the answer; the caller sets the flag again.
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                throw cause instanceof RuntimeException re ? re : failure(e, operation);
            }
        }
    }

    private ExecutorService recoveryPool() {
        synchronized (poolLock) {
            if (closed) {
                throw new RejectedExecutionException(providerId + " is closed");
            }
            if (recovery == null) {
                AtomicInteger count = new AtomicInteger();
                recovery = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                        task -> {
                            Thread t = new Thread(task, "locking-recovery-" + providerId + "-" + count.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
            }
            return recovery;
        }
    }

    private RuntimeException failure(Throwable error, String operation) {
        Throwable e = error;
        while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof LockingException || e instanceof IllegalArgumentException
                || e instanceof IllegalStateException) {
            return (RuntimeException) e;
        }
        return translator.translate(e, operation);
    }

    private BackendCallException noAnswer(String operation, boolean mayHaveTakenEffect, Throwable cause) {
        return new BackendCallException(providerId + ": no answer from " + backend + " to " + operation + " within "
                + bound.toMillis() + " ms", operation, mayHaveTakenEffect, cause);
    }

    /** Whether a client's failure was its wait ended by an interrupt. */
    private static boolean byInterrupt(Throwable failure) {
        if (Thread.currentThread().isInterrupted()) {
            return true;
        }
        for (Throwable e = failure; e != null; e = e.getCause()) {
            // Not InterruptedIOException: its subclass SocketTimeoutException is a timeout, not an interrupt.
            if (e instanceof InterruptedException || e instanceof ClosedByInterruptException) {
                return true;
            }
            if (e.getCause() == e) {
                break;
            }
        }
        return false;
    }

    /** An interrupt from another thread ended a synchronous call's wait. */
    private static final class CutShort extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CutShort(Throwable cause) {
            super(cause);
        }
    }
}
