package dev.locking.redis;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.redisson.Redisson;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.RedisCommand;
import org.redisson.client.protocol.RedisCommands;
import org.redisson.command.CommandAsyncExecutor;
import org.redisson.config.Config;
import org.redisson.config.DefaultNameMapper;
import org.redisson.config.NameMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider's way to Redis: the Redisson client, made on first use, and how every command is run.
 *
 * <p>Concurrency: {@link #client()} reads the volatile {@code client} and, while it is null, makes the client
 * under {@code lock}, so concurrent first calls make one client; {@code closed} is volatile and set under
 * {@code lock}, so no client is made after {@link #close()}. Both are read without the lock on every call,
 * so they carry no {@code @GuardedBy}. A failed attempt leaves the field null and the
 * next call tries again, which is how a provider whose server was down at first use recovers.
 *
 * <p>Every script is called by its SHA-1 ({@code EVALSHA}); a server that does not know it ({@code NOSCRIPT},
 * say after a restart or failover) gets it with {@code SCRIPT LOAD} on the node that serves the call's first
 * key, and the call is made again. Every wait for a reply goes through {@link #calls()}, so no call hangs.
 *
 * <p>When the client is Redisson's own implementation (what {@code Redisson.create} returns), a call goes to
 * its command executor, the way Redisson's {@code RLock} sends its scripts, rather than through {@link RScript}:
 * {@code RScript} makes a new script object per call, copies the keys through a stream, and encodes every
 * argument into a buffer of its own after checking it for being a Redisson object (unless the client's config
 * turned Redisson's "references" off); in a profile of single-key acquire and release that was about a fifth
 * of the calling thread's time. The executor writes the string arguments straight into the command. Keys go
 * through the client's {@link NameMapper} either way, as {@code RScript} does. Any other
 * {@link RedissonClient} implementation is called through {@code RScript}.
 */
final class RedisConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisConnection.class);

    private final String providerId;
    private final RedisSettings settings;
    private final RedisFailures failures;
    /** Every wait for a reply: bounded by {@link RedisSettings#callBound}, shielded from interrupts. */
    private final BackendCalls calls;
    /** Set when the application handed in its client: this provider uses it but never shuts it down. */
    private final @Nullable RedissonClient borrowed;
    private final Object lock = new Object();
    private volatile @Nullable Client client;
    private volatile boolean closed;

    /** {@code EVALSHA} with the reply types of {@link RScript.ReturnType#LIST} and {@link RScript.ReturnType#LONG}. */
    private static final RedisCommand<List<Object>> EVALSHA_LIST = new RedisCommand<>(RedisCommands.EVAL_LIST,
            "EVALSHA");
    private static final RedisCommand<Long> EVALSHA_LONG = new RedisCommand<>(RedisCommands.EVAL_LONG, "EVALSHA");
    /** {@link #EVALSHA_LIST} for a script that may also answer with an integer, which it passes on as it is. */
    @SuppressWarnings("unchecked")
    private static final RedisCommand<Object> EVALSHA_LIST_OR_LONG =
            (RedisCommand<Object>) (RedisCommand<?>) EVALSHA_LIST;

    /**
     * The client with what each script call needs from it, made once: the {@link RScript} (also used for
     * {@code SCRIPT LOAD}), and for Redisson's own client its command executor and, unless it is the identity,
     * its name mapper.
     */
    private static final class Client {
        final RedissonClient redisson;
        final RScript scripts;
        final @Nullable CommandAsyncExecutor executor;
        final @Nullable NameMapper names;

        Client(RedissonClient redisson) {
            this.redisson = redisson;
            this.scripts = redisson.getScript(StringCodec.INSTANCE);
            CommandAsyncExecutor e = null;
            NameMapper n = null;
            if (redisson instanceof Redisson r) {
                e = r.getCommandExecutor();
                NameMapper mapper = e.getServiceManager().getNameMapper();
                n = mapper.getClass() == DefaultNameMapper.class ? null : mapper; // the identity: skip it
            }
            this.executor = e;
            this.names = n;
        }
    }

    RedisConnection(String providerId, RedisSettings settings, @Nullable RedissonClient borrowed) {
        this.providerId = providerId;
        this.settings = settings;
        this.borrowed = borrowed;
        this.client = borrowed == null ? null : new Client(borrowed);
        this.failures = new RedisFailures(providerId, settings);
        this.calls = new BackendCalls(providerId, "Redis", settings.callBound, failures);
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
        return connected().redisson;
    }

    private Client connected() {
        Client c = client;
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
                    c = new Client(Redisson.create(new Config(settings.config)));
                } catch (RuntimeException e) {
                    throw failures.cannotConnect(e);
                }
                client = c;
                log.info("{} connected to Redis ({}, key prefix {})", providerId, settings.description,
                        settings.layout.prefix());
            }
            return c;
        }
    }

    /**
     * Runs a script that returns an array.
     *
     * @param keys the script's keys, Strings; the first one picks the node in a cluster
     * @param args the script's arguments, Strings or numbers (sent as their decimal text)
     */
    CompletableFuture<List<Object>> evalList(LuaScript script, List<Object> keys, Object... args) {
        return eval(script, EVALSHA_LIST, RScript.ReturnType.LIST, keys, args);
    }

    /**
     * Runs a script that returns an array or an integer: Redisson decodes an array reply into a {@code List} and
     * an integer reply into a {@code Long}. Keys and arguments as for {@link #evalList}.
     */
    CompletableFuture<Object> evalListOrLong(LuaScript script, List<Object> keys, Object... args) {
        return eval(script, EVALSHA_LIST_OR_LONG, RScript.ReturnType.LIST, keys, args);
    }

    /** Runs a script that returns an integer; keys and arguments as for {@link #evalList}. */
    CompletableFuture<Long> evalLong(LuaScript script, List<Object> keys, Object... args) {
        return eval(script, EVALSHA_LONG, RScript.ReturnType.LONG, keys, args);
    }

    private <R> CompletableFuture<R> eval(LuaScript script, RedisCommand<R> command, RScript.ReturnType type,
            List<Object> keys, Object[] args) {
        Client c = connected();
        CompletableFuture<R> first = evalSha(c, script, command, type, keys, args);
        return first.exceptionallyCompose(e -> {
            if (!RedisFailures.isNoScript(e)) {
                return CompletableFuture.failedFuture(failures.foreignData(e, keys));
            }
            log.debug("{}: Redis does not know {} yet; loading it", providerId, script);
            return c.scripts.scriptLoadAsync((String) keys.get(0), script.source()).toCompletableFuture()
                    .thenCompose(sha -> evalSha(c, script, command, type, keys, args))
                    .exceptionallyCompose(again -> CompletableFuture.failedFuture(failures.foreignData(again, keys)));
        });
    }

    private static <R> CompletableFuture<R> evalSha(Client c, LuaScript script, RedisCommand<R> command,
            RScript.ReturnType type, List<Object> keys, Object[] args) {
        CommandAsyncExecutor executor = c.executor;
        if (executor == null) {
            return c.scripts.<R>evalShaAsync(RScript.Mode.READ_WRITE, script.sha(), type, keys, args)
                    .toCompletableFuture();
        }
        List<Object> mapped = keys;
        NameMapper names = c.names;
        if (names != null) {
            mapped = new ArrayList<>(keys.size());
            for (Object key : keys) {
                mapped.add(names.map((String) key));
            }
        }
        return executor.<R, R>evalWriteAsync((String) mapped.get(0), StringCodec.INSTANCE, command, script.sha(),
                mapped, args).toCompletableFuture();
    }

    /**
     * How the provider waits for a reply: {@link BackendCalls#await} for a command that may change locks (an
     * interrupt does not end the wait: the command is on its way and its outcome must be known),
     * {@link BackendCalls#awaitRead} for one that changes nothing; both bounded by {@link RedisSettings#callBound},
     * on top of Redisson's own timeouts, and failures mapped by {@link RedisFailures}.
     */
    BackendCalls calls() {
        return calls;
    }

    /** Turns a failure of Redisson outside a script call (a {@code SCAN}, say) into what the SPI reports. */
    RuntimeException failure(RuntimeException error, String operation) {
        if (error instanceof LockingException || (error instanceof IllegalStateException && closed)) {
            return error;
        }
        return failures.translate(error, operation);
    }

    boolean isClosed() {
        return closed;
    }

    /** Shuts the client down if this provider made it; an application's own client is left running. */
    @Override
    public void close() {
        @Nullable RedissonClient c;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            Client made = client;
            c = made == null ? null : made.redisson;
        }
        calls.close();
        if (c != null && c != borrowed) {
            try {
                c.shutdown(0, 2, TimeUnit.SECONDS);
            } catch (RuntimeException e) {
                log.debug("{}: Redisson shutdown failed", providerId, e);
            }
        }
    }
}
