package dev.locking.redis;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * <p>One release wakes one waiter of the lock: the one that registered first and is not woken yet. It then
 * tries to take the lock (a caller of {@code awaitRelease} tries again after it returns); if it gets it, its
 * own release wakes the next waiter, and if someone else got it first, that holder's release does. Waking
 * every waiter instead would send them all to Redis for one lock that at most one of them can take, against
 * the waiters of other processes too. A woken waiter that leaves without returning normally (interrupted,
 * Redis failed, the provider closed) passes its wake-up on to the next waiter of its locks, since it will not
 * try. Whatever a wake-up misses (a notification lost in a reconnect, a caller that does not try again), the
 * bounded sleep of {@link RedisLockingProvider#awaitRelease} still ends.
 *
 * <p>Concurrency: {@code waiting} maps a lock key to its waiters in the order they registered; the queue of a
 * key is only read or changed inside {@link ConcurrentHashMap#compute} (or {@code computeIfPresent}) of that
 * key, so an empty queue is never left behind. A waiter is a one-shot latch: a wake-up that comes between
 * registering and waiting is kept. The subscription is made under {@code subscribeLock}; {@code listenerId}
 * is volatile.
 */
final class ReleaseWaiters {
    private static final Logger log = LoggerFactory.getLogger(ReleaseWaiters.class);

    private final RedisConnection connection;
    private final KeyLayout layout;
    private final ConcurrentHashMap<String, ArrayDeque<Waiter>> waiting = new ConcurrentHashMap<>();
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
        private final CountDownLatch latch = new CountDownLatch(1);
        private final AtomicBoolean woken = new AtomicBoolean();

        /** Wakes this waiter; returns false if it was woken before (so the wake-up is not used up here). */
        boolean wake() {
            if (!woken.compareAndSet(false, true)) {
                return false;
            }
            latch.countDown();
            return true;
        }

        boolean isWoken() {
            return woken.get();
        }

        /** Returns true when woken, false when the time ran out. */
        boolean await(long nanos) throws InterruptedException {
            sleeping.incrementAndGet();
            try {
                return latch.await(nanos, TimeUnit.NANOSECONDS);
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

    /** Adds a waiter for the lock keys, behind those already waiting for them. */
    Waiter register(List<String> lockKeys) {
        Waiter waiter = new Waiter();
        for (String key : lockKeys) {
            waiting.compute(key, (k, queue) -> {
                ArrayDeque<Waiter> q = queue != null ? queue : new ArrayDeque<>(4);
                q.addLast(waiter);
                return q;
            });
        }
        return waiter;
    }

    /**
     * Removes a waiter. One that was woken but will not try to take its locks ({@code passOn}) wakes the next
     * waiter of each of them instead.
     */
    void unregister(Waiter waiter, List<String> lockKeys, boolean passOn) {
        boolean wakeNext = passOn && waiter.isWoken();
        for (String key : lockKeys) {
            waiting.computeIfPresent(key, (k, queue) -> {
                queue.remove(waiter);
                if (wakeNext) {
                    wakeFirst(queue);
                }
                return queue.isEmpty() ? null : queue;
            });
        }
    }

    /** Wakes every waiter, for example when the provider closes. */
    void wakeAll() {
        for (String key : waiting.keySet()) {
            waiting.computeIfPresent(key, (k, queue) -> {
                queue.forEach(Waiter::wake);
                return queue;
            });
        }
    }

    /** Wakes the first waiter of the queue that is not woken yet, if any. */
    private static void wakeFirst(ArrayDeque<Waiter> queue) {
        for (Waiter w : queue) {
            if (w.wake()) {
                return;
            }
        }
    }

    int waitingKeys() {
        return waiting.size();
    }

    int sleepingWaiters() {
        return sleeping.get();
    }

    /** Handles one release notification: the names of the released locks, one per line. */
    void onMessage(String message) {
        int start = 0;
        while (start <= message.length()) {
            int end = message.indexOf('\n', start);
            if (end < 0) {
                end = message.length();
            }
            if (end > start) {
                waiting.computeIfPresent(layout.lockKeyFromNotification(message.substring(start, end)),
                        (k, queue) -> {
                            wakeFirst(queue);
                            return queue;
                        });
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
