package dev.locking.redis;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.redisson.Redisson;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisException;
import org.redisson.client.RedisNoScriptException;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider's way to Redis: the Redisson client, made on first use, and how every command is run.
 *
 * <p>Concurrency: {@link #client()} reads a volatile field and, while it is null, makes the client under
 * {@code lock}, so concurrent first calls make one client. A failed attempt leaves the field null and the
 * next call tries again, which is how a provider whose server was down at first use recovers.
 *
 * <p>Every script is called by its SHA-1 ({@code EVALSHA}); a server that does not know it ({@code NOSCRIPT},
 * say after a restart or failover) gets it with {@code SCRIPT LOAD} on the node that serves the call's first
 * key, and the call is made again. Every wait for a reply is bounded by {@link RedisSettings#callBound}, on
 * top of Redisson's own timeouts, so no call hangs.
 */
final class RedisConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisConnection.class);

    private final String providerId;
    private final RedisSettings settings;
    /** Set when the application handed in its client: this provider uses it but never shuts it down. */
    private final @Nullable RedissonClient borrowed;
    private final Object lock = new Object();
    private volatile @Nullable RedissonClient client;
    private volatile boolean closed;

    RedisConnection(String providerId, RedisSettings settings, @Nullable RedissonClient borrowed) {
        this.providerId = providerId;
        this.settings = settings;
        this.borrowed = borrowed;
        this.client = borrowed;
    }

    String providerId() {
        return providerId;
    }

    /**
     * Returns the client, making it on first use.
     *
     * @throws ProviderUnavailableException if Redis cannot be reached now
     * @throws IllegalStateException        after {@link #close()}
     */
    RedissonClient client() {
        RedissonClient c = client;
        if (c != null && !closed) {
            return c;
        }
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException(providerId + " is closed");
            }
            c = client;
            if (c == null) {
                try {
                    c = Redisson.create(new Config(settings.config));
                } catch (RuntimeException e) {
                    throw new ProviderUnavailableException(providerId + ": cannot connect to Redis ("
                            + settings.description + "; " + reason(e) + ")", e);
                }
                client = c;
                log.info("{} connected to Redis ({}, key prefix {})", providerId, settings.description,
                        settings.layout.prefix());
            }
            return c;
        }
    }

    /** Runs a script that returns an array. */
    CompletableFuture<List<Object>> evalList(LuaScript script, List<Object> keys, Object... args) {
        return eval(script, RScript.ReturnType.LIST, keys, args);
    }

    /** Runs a script that returns an integer. */
    CompletableFuture<Long> evalLong(LuaScript script, List<Object> keys, Object... args) {
        return eval(script, RScript.ReturnType.LONG, keys, args);
    }

    private <R> CompletableFuture<R> eval(LuaScript script, RScript.ReturnType type, List<Object> keys,
            Object[] args) {
        RScript scripts = client().getScript(StringCodec.INSTANCE);
        CompletableFuture<R> first = scripts.<R>evalShaAsync(RScript.Mode.READ_WRITE, script.sha(), type, keys, args)
                .toCompletableFuture();
        return first.exceptionallyCompose(e -> {
            if (!isNoScript(e)) {
                return CompletableFuture.failedFuture(e);
            }
            log.debug("{}: Redis does not know {} yet; loading it", providerId, script);
            return scripts.scriptLoadAsync((String) keys.get(0), script.source()).toCompletableFuture()
                    .thenCompose(sha -> scripts.<R>evalShaAsync(RScript.Mode.READ_WRITE, script.sha(), type, keys,
                            args).toCompletableFuture());
        });
    }

    /**
     * Waits for a reply without giving up on an interrupt: the command is already on its way, and its outcome
     * (a lock taken or not) must be known. The interrupt flag is set again before returning.
     */
    <T> T await(CompletableFuture<T> future, String operation) {
        long deadline = System.nanoTime() + settings.callBound.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return future.get(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException | CancellationException e) {
                    throw failure(e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e,
                            operation);
                } catch (TimeoutException e) {
                    throw noAnswer(operation, e);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits for the reply to a command that changes nothing, so an interrupt may end the wait. */
    <T> T awaitInterruptibly(CompletableFuture<T> future, String operation) throws InterruptedException {
        try {
            return future.get(settings.callBound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException | CancellationException e) {
            throw failure(e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e, operation);
        } catch (TimeoutException e) {
            throw noAnswer(operation, e);
        }
    }

    private ProviderUnavailableException noAnswer(String operation, TimeoutException e) {
        return new ProviderUnavailableException(providerId + ": no answer from Redis to " + operation + " within "
                + settings.callBound.toMillis() + " ms (" + settings.description + ")", e);
    }

    /** Turns a failure of Redisson (or of {@link #client()}) into what the SPI reports. */
    RuntimeException failure(Throwable error, String operation) {
        Throwable e = error;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof LockingException || (e instanceof IllegalStateException && closed)) {
            return (RuntimeException) e;
        }
        String reason = reason(e);
        String message = e.getMessage();
        if (reason.equals("WRONGTYPE") || (e instanceof RedisException && message != null
                && message.startsWith("ERR") && message.contains("script"))) {
            return new LockingException(providerId + ": Redis rejected " + operation + " (" + reason
                    + "; a key under prefix " + settings.layout.prefix() + " holds data this provider did not write?)",
                    e);
        }
        return new ProviderUnavailableException(providerId + ": Redis did not complete " + operation + " ("
                + settings.description + "; " + reason + ")", e);
    }

    /**
     * A short reason that is safe to print: the error code Redis answered with (such as {@code NOPERM} or
     * {@code WRONGPASS}), else the exception's type and that of its root cause. Never a message, which may
     * quote a command or an address.
     */
    private static String reason(Throwable e) {
        String message = e.getMessage();
        if (e instanceof RedisException && message != null) {
            int end = 0;
            while (end < message.length() && Character.isUpperCase(message.charAt(end))) {
                end++;
            }
            if (end >= 3 && (end == message.length() || message.charAt(end) == ' ')) {
                String code = message.substring(0, end);
                if (!code.equals("ERR")) {
                    return code;
                }
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + " caused by " + root.getClass().getSimpleName();
    }

    private static boolean isNoScript(Throwable error) {
        Throwable e = error;
        while (e instanceof CompletionException && e.getCause() != null) {
            e = e.getCause();
        }
        String message = e.getMessage();
        return e instanceof RedisNoScriptException
                || (e instanceof RedisException && message != null && message.startsWith("NOSCRIPT"));
    }

    Duration callBound() {
        return settings.callBound;
    }

    boolean isClosed() {
        return closed;
    }

    /** Shuts the client down if this provider made it; an application's own client is left running. */
    @Override
    public void close() {
        RedissonClient c;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            c = client;
        }
        if (c != null && c != borrowed) {
            try {
                c.shutdown(0, 2, TimeUnit.SECONDS);
            } catch (RuntimeException e) {
                log.debug("{}: Redisson shutdown failed", providerId, e);
            }
        }
    }
}
