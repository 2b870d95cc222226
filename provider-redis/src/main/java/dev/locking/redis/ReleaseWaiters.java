package dev.locking.redis;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.listener.MessageListener;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads of one provider that wait for locks, and the one subscription that wakes them.
 *
 * <p>Every release script publishes the names of the locks it freed on the provider's channel. This class
 * subscribes to that channel once per provider (on the first wait, through Redisson's {@link RTopic}, which
 * subscribes again by itself after a reconnect) and hands each name to the threads waiting for that lock.
 *
 * <p>Concurrency: {@code waiting} maps a lock key to the set of its waiters; a waiter is added and removed
 * with {@link ConcurrentHashMap#compute}, so an empty set is never left behind, and the listener thread
 * only reads. A waiter is a one-shot latch: a wake-up that comes between registering and waiting is kept.
 * The subscription is made under {@code subscribeLock}; {@code listenerId} is volatile.
 */
final class ReleaseWaiters {
    private static final Logger log = LoggerFactory.getLogger(ReleaseWaiters.class);

    private final RedisConnection connection;
    private final KeyLayout layout;
    private final ConcurrentHashMap<String, Set<Waiter>> waiting = new ConcurrentHashMap<>();
    /** Waiters blocked on their latch now; read by tests. */
    private final AtomicInteger sleeping = new AtomicInteger();
    private final Object subscribeLock = new Object();
    private volatile @Nullable Integer listenerId;
    private volatile @Nullable RTopic topic;
    /** The one listener of this provider, so that a failed attempt can be taken back. */
    private final MessageListener<String> listener = (channel, message) -> onMessage(message);

    ReleaseWaiters(RedisConnection connection, KeyLayout layout) {
        this.connection = connection;
        this.layout = layout;
    }

    /** One waiting thread. */
    final class Waiter {
        private final CountDownLatch woken = new CountDownLatch(1);

        void wake() {
            woken.countDown();
        }

        /** Returns true when woken, false when the time ran out. */
        boolean await(long nanos) throws InterruptedException {
            sleeping.incrementAndGet();
            try {
                return woken.await(nanos, TimeUnit.NANOSECONDS);
            } finally {
                sleeping.decrementAndGet();
            }
        }
    }

    /**
     * Subscribes to the release channel unless this provider already has.
     *
     * @throws dev.locking.api.ProviderUnavailableException if Redis cannot be reached
     */
    void subscribe() {
        if (listenerId != null) {
            return;
        }
        synchronized (subscribeLock) {
            if (listenerId != null) {
                return;
            }
            RedissonClient client = connection.client();
            RTopic t = client.getTopic(layout.channel(), StringCodec.INSTANCE);
            Integer id;
            try {
                id = connection.await(t.addListenerAsync(String.class, listener).toCompletableFuture(), "subscribe");
            } catch (RuntimeException e) {
                // Redisson may still complete the subscription later; make sure it does not stay behind.
                t.removeListenerAsync(listener).whenComplete((ignored, failure) -> {
                    if (failure != null) {
                        log.debug("{}: could not take back a failed subscription", connection.providerId(), failure);
                    }
                });
                throw e;
            }
            topic = t;
            listenerId = id;
            log.debug("{} subscribed to {}", connection.providerId(), layout.channel());
        }
    }

    Waiter register(List<String> lockKeys) {
        Waiter waiter = new Waiter();
        for (String key : lockKeys) {
            waiting.compute(key, (k, set) -> {
                Set<Waiter> s = set != null ? set : ConcurrentHashMap.newKeySet();
                s.add(waiter);
                return s;
            });
        }
        return waiter;
    }

    void unregister(Waiter waiter, List<String> lockKeys) {
        for (String key : lockKeys) {
            waiting.computeIfPresent(key, (k, set) -> {
                set.remove(waiter);
                return set.isEmpty() ? null : set;
            });
        }
    }

    /** Wakes every waiter, for example when the provider closes. */
    void wakeAll() {
        waiting.values().forEach(set -> set.forEach(Waiter::wake));
    }

    int waitingKeys() {
        return waiting.size();
    }

    int sleepingWaiters() {
        return sleeping.get();
    }

    private void onMessage(String message) {
        int start = 0;
        while (start <= message.length()) {
            int end = message.indexOf('\n', start);
            if (end < 0) {
                end = message.length();
            }
            if (end > start) {
                Set<Waiter> set = waiting.get(layout.lockKeyFromNotification(message.substring(start, end)));
                if (set != null) {
                    set.forEach(Waiter::wake);
                }
            }
            start = end + 1;
        }
    }

    /** Ends the subscription (the client itself may belong to the application and go on). */
    void close() {
        wakeAll();
        RTopic t = topic;
        Integer id = listenerId;
        if (t != null && id != null) {
            try {
                t.removeListenerAsync(id).toCompletableFuture().get(connection.callBound().toMillis(),
                        TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                log.debug("{}: could not unsubscribe from {}", connection.providerId(), layout.channel(), e);
            }
        }
    }
}
