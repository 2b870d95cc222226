package dev.locking.redis;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.locking.spi.support.GrantInbox;
import dev.locking.spi.support.KeyWaiters;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.listener.MessageListener;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.DefaultNameMapper;
import org.redisson.config.NameMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider's subscription to its release channel, which turns each notification into wake-ups of the
 * local {@link KeyWaiters}, and each grant (a lock handed to a queued owner) into a delivery to the
 * {@link GrantInbox}.
 *
 * <p>Every release script publishes the names of the locks it freed that someone waits for, one per line
 * (after the key prefix; see {@link KeyLayout}). This class subscribes to that channel once per provider (on
 * the first wait, through Redisson's {@link RTopic}, which subscribes again by itself after a reconnect) and
 * calls {@link KeyWaiters#wakeFirst} with each named lock key: one release wakes one waiter of the lock,
 * which then tries to take it. Who is woken, and how an unused wake-up passes on, is {@link KeyWaiters}'s
 * business; a notification lost in a reconnect is made up for by the waiters' bounded sleep.
 *
 * <p>Concurrency: the subscription is made and ended under {@code subscribeLock}; {@code subscribed} is
 * volatile, so the wait path checks it without the lock. Notifications arrive on Redisson's threads and only
 * call {@link KeyWaiters}, which is safe for concurrent use and never blocks.
 */
final class ReleaseChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReleaseChannel.class);
    /** How a grant message starts; a release notification starts with a lock name, which starts with a brace. */
    private static final String GRANT = "!";

    private final RedisConnection connection;
    private final KeyLayout layout;
    private final KeyWaiters waiters;
    private final GrantInbox grants;
    private final String providerId;
    /** The one listener of this provider, so that a failed attempt can be taken back. */
    private final MessageListener<String> listener = (channel, message) -> onMessage(message);
    private final Object subscribeLock = new Object();
    private volatile boolean subscribed;

    @GuardedBy("subscribeLock")
    private @Nullable RTopic topic;

    @GuardedBy("subscribeLock")
    private @Nullable Integer listenerId;

    ReleaseChannel(String providerId, RedisConnection connection, KeyLayout layout, KeyWaiters waiters,
            GrantInbox grants) {
        this.providerId = providerId;
        this.connection = connection;
        this.layout = layout;
        this.waiters = waiters;
        this.grants = grants;
    }

    /**
     * Subscribes to the release channel unless this provider already has.
     *
     * @throws dev.locking.api.ProviderUnavailableException if Redis cannot be reached
     */
    void subscribe() {
        if (subscribed) {
            return;
        }
        synchronized (subscribeLock) {
            if (subscribed) {
                return;
            }
            RTopic t = connection.client().getTopic(layout.channel(), StringCodec.INSTANCE);
            Integer id;
            try {
                id = connection.calls().await(t.addListenerAsync(String.class, listener), "subscribe");
            } catch (RuntimeException e) {
                // Redisson may still complete the subscription later; make sure it does not stay behind.
                t.removeListenerAsync(listener).whenComplete((ignored, failure) -> {
                    if (failure != null) {
                        log.debug("{}: could not take back a failed subscription", providerId, failure);
                    }
                });
                throw e;
            }
            topic = t;
            listenerId = id;
            subscribed = true;
            log.debug("{} subscribed to {}", providerId, layout.channel());
        }
    }

    /**
     * Handles one message: a grant ({@code !<token> <lease ms> <lock name><owner>}, see handOff in shared.lua), or
     * a release notification, the names of the released locks, one per line (a lock name starts with a brace).
     */
    void onMessage(String message) {
        if (message.startsWith(GRANT)) {
            onGrant(message);
            return;
        }
        int start = 0;
        while (start <= message.length()) {
            int end = message.indexOf('\n', start);
            if (end < 0) {
                end = message.length();
            }
            if (end > start) {
                waiters.wakeFirst(layout.lockKeyFromNotification(message.substring(start, end)));
            }
            start = end + 1;
        }
    }

    /** Hands a grant to the {@link GrantInbox}, which passes it to the owner's waiter if it is in this process. */
    private void onGrant(String message) {
        int afterToken = message.indexOf(' ', GRANT.length());
        int afterLease = afterToken < 0 ? -1 : message.indexOf(' ', afterToken + 1);
        // The lock's name is {e(K)}: e(K) holds no brace, so the name ends at the first closing brace.
        int close = afterLease < 0 ? -1 : message.indexOf('}', afterLease + 1);
        if (close < 0) {
            log.debug("{}: ignored a grant message of unknown shape", providerId);
            return;
        }
        try {
            long token = Long.parseLong(message, GRANT.length(), afterToken, 10);
            long lease = Long.parseLong(message, afterToken + 1, afterLease, 10);
            grants.deliver(layout.lockKeyFromNotification(message.substring(afterLease + 1, close + 1)),
                    message.substring(close + 1), token, lease);
        } catch (NumberFormatException e) {
            log.debug("{}: ignored a grant message of unknown shape", providerId);
        }
    }

    /** Ends the subscription (the client itself may belong to the application and go on). */
    @Override
    public void close() {
        RTopic t;
        Integer id;
        synchronized (subscribeLock) {
            t = topic;
            id = listenerId;
            topic = null;
            listenerId = null;
        }
        if (t == null || id == null) {
            return;
        }
        try {
            t.removeListenerAsync(id).toCompletableFuture().get(connection.calls().bound().toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            log.debug("{}: could not unsubscribe from {}", providerId, layout.channel(), e);
        }
    }

    /**
     * The channel the release scripts publish on and the length of the prefix they cut off a lock key, as
     * Redis sees them. An application's client may have a {@link NameMapper}, which maps the keys a script
     * gets and the channel a subscription listens on: the scripts then publish on the channel as the topic
     * names it, and cut the mapped prefix off the mapped lock key, so a waiter finds the lock it waits for.
     * That needs a mapper that only puts something before the names (a tenant prefix, its common use); with
     * another, a release message cannot name the lock, waiters wake on their re-check instead (within a
     * second), and this says so once in the log.
     */
    record Published(String channel, int prefixBytes) {
        static Published of(String id, KeyLayout layout, @Nullable RedissonClient client) {
            Published plain = new Published(layout.channel(), layout.prefixBytes());
            NameMapper names = client == null ? null : client.getConfig().getNameMapper();
            if (client == null || names == null || names.getClass() == DefaultNameMapper.class) {
                return plain;
            }
            String channel = client.getTopic(layout.channel(), StringCodec.INSTANCE).getChannelNames().get(0);
            String before = mappedPrefix(names, layout, "a");
            if (before == null || !before.equals(mappedPrefix(names, layout, "b"))) {
                log.warn("{}: the client's NameMapper changes more than the start of a key ({} becomes {}), so"
                        + " release messages cannot name the lock; waiters of other processes notice releases on"
                        + " their re-check, within a second", id, layout.lockKey("a"), names.map(layout.lockKey("a")));
                return new Published(channel, layout.prefixBytes());
            }
            return new Published(channel, before.getBytes(StandardCharsets.UTF_8).length);
        }

        /** What the mapper puts in place of the prefix of a lock key, or null if it changes more. */
        private static @Nullable String mappedPrefix(NameMapper names, KeyLayout layout, String probe) {
            String key = layout.lockKey(probe);
            String tail = key.substring(layout.prefix().length());
            String mapped = names.map(key);
            return mapped.endsWith(tail) ? mapped.substring(0, mapped.length() - tail.length()) : null;
        }
    }
}
