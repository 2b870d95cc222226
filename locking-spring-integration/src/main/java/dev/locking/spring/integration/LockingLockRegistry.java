package dev.locking.spring.integration;

import dev.locking.api.LockingService;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.integration.support.locks.ExpirableLockRegistry;
import org.springframework.integration.support.locks.RenewableLockRegistry;

/**
 * A Spring Integration {@code LockRegistry} whose locks are held by a Locking provider: a drop-in for
 * {@code RedisLockRegistry} or {@code JdbcLockRegistry} that works on any backend the {@link LockingService}
 * has (Redis, Hazelcast, ZooKeeper, PostgreSQL, or in memory).
 *
 * <pre>{@code
 * @Bean
 * LockingLockRegistry lockRegistry(LockingService locking) {
 *     return LockingLockRegistry.builder(locking).provider("lp_redis").build();
 * }
 * }</pre>
 *
 * <p>{@link #obtain(Object)} gives the same {@link LockingLock} for the same key while it is in use. Such a
 * lock behaves like a {@link java.util.concurrent.locks.ReentrantLock} in this JVM (the thread that locked it
 * must unlock it, and may lock it again), and holds the key on the provider, under this registry's own owner id,
 * from the first {@code lock} to the last {@code unlock} (each lock object has an owner id of its own, so two
 * objects of one key, which {@link #expireUnusedOlderThan(long)} can leave behind, still exclude each other). While held, its lease is renewed every third of it; a
 * renewal that finds the key taken from it (its lease ran out, or someone released it) marks the lock lost, and
 * its {@code unlock} then throws {@link java.util.ConcurrentModificationException}, as Spring's registries do.
 * Waiting for a key held elsewhere is the service's fair wait (woken by the release, in arrival order), not
 * polling.
 *
 * <p>{@link #close()} stops the renewals and releases every key this registry holds; it does not close the
 * service, which the application owns.
 *
 * <p>Concurrency: safe for use by any number of threads. Locks live in a concurrent map; each lock's state is
 * guarded by its own local lock (see {@link LockingLock}); renewals run on one daemon thread per registry.
 */
public final class LockingLockRegistry
        implements ExpirableLockRegistry<LockingLock>, RenewableLockRegistry<LockingLock>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LockingLockRegistry.class);
    private static final AtomicInteger REGISTRIES = new AtomicInteger();
    private static final AtomicLong LOCKS = new AtomicLong();

    private final LockingService locking;
    private final @Nullable String provider;
    private final String prefix;
    private final Duration lease;
    private final String ownerPrefix;
    private final Map<String, LockingLock> locks = new ConcurrentHashMap<>();
    private final ScheduledExecutorService renewals;
    private volatile boolean closed;

    private LockingLockRegistry(Builder b) {
        this.locking = b.locking;
        this.provider = b.provider;
        this.prefix = b.prefix;
        this.lease = b.lease;
        this.ownerPrefix = "lock-registry-" + UUID.randomUUID() + "-";
        int n = REGISTRIES.incrementAndGet();
        this.renewals = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "locking-registry-renewal-" + n);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * A registry on the service's default provider, with a 30-second lease and no key prefix.
     *
     * @param locking the service that holds the locks
     * @return the registry
     */
    public static LockingLockRegistry of(LockingService locking) {
        return builder(locking).build();
    }

    /**
     * Starts a builder.
     *
     * @param locking the service that holds the locks; the registry never closes it
     * @return a builder with the defaults: default provider, no prefix, a 30-second lease
     */
    public static Builder builder(LockingService locking) {
        return new Builder(Objects.requireNonNull(locking, "locking"));
    }

    /**
     * The lock of one key: the same object as long as it is held or was used recently (see
     * {@link #expireUnusedOlderThan(long)}).
     *
     * @param lockKey the key; its {@code toString()}, after the registry's prefix, is the key on the provider
     * @return the key's lock
     * @throws IllegalArgumentException if the key is null
     * @throws IllegalStateException    if the registry is closed
     */
    @Override
    public LockingLock obtain(Object lockKey) {
        if (lockKey == null) {
            throw new IllegalArgumentException("lockKey must not be null");
        }
        checkOpen();
        String key = prefix + lockKey;
        return locks.computeIfAbsent(key, k -> new LockingLock(this, k, ownerPrefix + LOCKS.incrementAndGet()));
    }

    /**
     * Forgets locks nobody holds that were last used more than {@code age} milliseconds ago, so that a registry
     * used with many keys does not keep one object per key forever. A lock in use is never removed.
     *
     * @param age milliseconds since the lock was last locked or unlocked
     */
    @Override
    public void expireUnusedOlderThan(long age) {
        long now = System.nanoTime();
        long ageNanos = TimeUnit.MILLISECONDS.toNanos(age);
        for (Iterator<LockingLock> it = locks.values().iterator(); it.hasNext(); ) {
            LockingLock lock = it.next();
            if (lock.unusedSince(now, ageNanos)) {
                it.remove();
            }
        }
    }

    /**
     * Renews the lease of a key this thread holds now, with the registry's lease.
     *
     * @param lockKey the key
     * @throws IllegalMonitorStateException if the calling thread does not hold the key's lock
     */
    @Override
    public void renewLock(Object lockKey) {
        renewLock(lockKey, lease);
    }

    /**
     * Renews the lease of a key this thread holds now: it lasts {@code ttl} from now, and later automatic renewals
     * keep that length.
     *
     * @param lockKey the key
     * @param ttl     the new lease; positive
     * @throws IllegalMonitorStateException if the calling thread does not hold the key's lock
     * @throws java.util.ConcurrentModificationException if the key was taken from this registry meanwhile
     */
    @Override
    public void renewLock(Object lockKey, Duration ttl) {
        LockingLock lock = locks.get(prefix + lockKey);
        if (lock == null) {
            throw new IllegalMonitorStateException("no lock of " + prefix + lockKey + " is held by this registry");
        }
        lock.renewNow(ttl);
    }

    /** Stops the renewals and releases every key this registry holds. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        renewals.shutdownNow();
        for (LockingLock lock : locks.values()) {
            try {
                lock.abandon();
            } catch (RuntimeException e) {
                log.warn("Closing the lock registry: releasing {} failed; it lapses with its lease", lock.key(), e);
            }
        }
        locks.clear();
    }

    LockingService locking() {
        return locking;
    }

    @Nullable String provider() {
        return provider;
    }

    Duration lease() {
        return lease;
    }

    ScheduledExecutorService renewals() {
        return renewals;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the lock registry is closed");
        }
    }

    /** Builds a {@link LockingLockRegistry}. */
    public static final class Builder {
        private final LockingService locking;
        private @Nullable String provider;
        private String prefix = "";
        private Duration lease = Duration.ofSeconds(30);

        private Builder(LockingService locking) {
            this.locking = locking;
        }

        /**
         * The provider that holds the locks.
         *
         * @param provider a provider id such as {@code lp_redis}; {@code null} means the service's default
         * @return this builder
         */
        public Builder provider(@Nullable String provider) {
            this.provider = provider;
            return this;
        }

        /**
         * A prefix put before every key, so that registries of different purposes never share a key (Spring's
         * registries call it a region).
         *
         * @param prefix the prefix, such as {@code "orders:"}; empty means none
         * @return this builder
         */
        public Builder prefix(String prefix) {
            this.prefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /**
         * How long a held key stays locked if this JVM stops renewing it (it died or lost the backend); renewed
         * every third of it while held.
         *
         * @param lease a positive duration of at least 3 milliseconds; default 30 seconds
         * @return this builder
         * @throws IllegalArgumentException if the lease is null or shorter than 3 milliseconds
         */
        public Builder lease(Duration lease) {
            if (lease == null || lease.toMillis() < 3) {
                throw new IllegalArgumentException("lease must be at least 3 ms, was " + lease);
            }
            this.lease = lease;
            return this;
        }

        /**
         * Builds the registry.
         *
         * @return the registry; close it to stop its renewals and release what it holds
         */
        public LockingLockRegistry build() {
            return new LockingLockRegistry(this);
        }
    }
}
