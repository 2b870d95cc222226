package dev.locking.bench;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMultiLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RBucket;
import org.redisson.api.RLock;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The libraries a user would pick instead of Locking, each used the way its documentation shows, on the
 * same backend (and client) as our provider.
 *
 * <p>Concurrency: each peer is called by the workload's threads at once; what a peer keeps per key (Curator
 * mutexes, {@code ReentrantLock}s) lives in a {@code ConcurrentHashMap}, and owners are per thread.
 */
final class Peers {
    private Peers() {}

    /** The name of Redisson's fair lock. */
    static final String REDISSON_FAIR = "Redisson fair lock";
    /** The name of the fair {@code ReentrantLock} peer. */
    static final String FAIR_REENTRANT = "fair ReentrantLock";

    /** Lease of the peers' single-key locks in W1/W2, the same as ours. */
    private static final long LEASE_MILLIS = OursContender.LEASE.toMillis();

    /** What is left until {@code giveUpNanos}, at least 1 ms. */
    static long remainingMillis(long giveUpNanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(giveUpNanos - System.nanoTime()));
    }

    /** One lock of a peer taken with a timed wait. */
    @FunctionalInterface
    interface TimedLock {
        /**
         * Waits up to {@code waitMillis} for the lock of {@code key}.
         *
         * @return how to release it, or null if it was not taken in time
         */
        @Nullable Runnable tryLock(String key, long waitMillis) throws Exception;
    }

    /**
     * Takes one lock per key, one after another in the order given, each waiting until {@code giveUpNanos};
     * runs the section; releases them in reverse order (also when a wait or the section failed).
     *
     * @throws TimeoutException if a lock was not taken in time
     */
    static void perKey(List<String> keys, TimedLock lock, Runnable section, long giveUpNanos) throws Exception {
        Runnable[] unlocks = new Runnable[keys.size()];
        int taken = 0;
        try {
            for (String key : keys) {
                Runnable unlock = lock.tryLock(key, remainingMillis(giveUpNanos));
                if (unlock == null) {
                    throw new TimeoutException("gave up waiting for " + key);
                }
                unlocks[taken++] = unlock;
            }
            section.run();
        } finally {
            for (int i = taken - 1; i >= 0; i--) {
                unlocks[i].run();
            }
        }
    }

    /** A contender that is not ours: a name, and the two ways to lock. */
    abstract static class Peer implements Contender {
        private final String name;

        Peer(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public boolean ours() {
            return false;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /**
     * Redisson's {@code RLock}: {@code lock(30 s)}/{@code unlock()} for one key; {@code tryLock(wait)}
     * (watchdog-renewed, like {@code execute}'s lease; the same wait as {@code lock()}) for sections, through
     * {@code getMultiLock} (a {@code RedissonMultiLock}) for several keys.
     */
    static Contender redisson(RedissonClient client, String prefix) {
        return new Peer("Redisson RLock") {
            @Override
            public String multiName() {
                return "RedissonMultiLock";
            }

            @Override
            public void cycle(String key) {
                RLock lock = client.getLock(prefix + key);
                lock.lock(LEASE_MILLIS, TimeUnit.MILLISECONDS);
                try {
                    // nothing: the cycle is the lock and the unlock
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                RLock lock;
                if (keys.size() == 1) {
                    lock = client.getLock(prefix + keys.get(0));
                } else {
                    RLock[] locks = new RLock[keys.size()];
                    for (int i = 0; i < locks.length; i++) {
                        locks[i] = client.getLock(prefix + keys.get(i));
                    }
                    lock = client.getMultiLock(locks);
                }
                runLocked(lock, keys, section, giveUpNanos);
            }
        };
    }

    /**
     * Redisson's fair lock ({@code getFairLock}): waiters enter in the order they asked, across processes;
     * {@code tryLock(wait)} for one key, as {@link #redisson} does.
     */
    static Contender redissonFair(RedissonClient client, String prefix) {
        return new Peer(REDISSON_FAIR) {
            @Override
            public void cycle(String key) {
                throw new UnsupportedOperationException("measured only where threads wait (W7)");
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                if (keys.size() != 1) {
                    throw new UnsupportedOperationException("measured on one key only (W7)");
                }
                runLocked(client.getFairLock(prefix + keys.get(0)), keys, section, giveUpNanos);
            }
        };
    }

    /** Waits for a Redisson lock until {@code giveUpNanos}, runs the section, unlocks. */
    private static void runLocked(RLock lock, List<String> keys, Runnable section, long giveUpNanos)
            throws Exception {
        if (!lock.tryLock(remainingMillis(giveUpNanos), TimeUnit.MILLISECONDS)) {
            throw new TimeoutException("gave up waiting for " + keys);
        }
        try {
            section.run();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The fewest round trips a correct Redis lock needs: {@code SET key owner NX PX} to take it and one
     * owner-checked delete script ({@code EVALSHA}) to release it, through the same Redisson client.
     */
    static Contender redisFloor(RedissonClient client, String prefix) {
        RScript script = client.getScript(StringCodec.INSTANCE);
        String sha = script.scriptLoad(
                "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end");
        ThreadLocal<String> owners = ThreadLocal.withInitial(() -> "floor-" + Thread.currentThread().getName());
        return new Peer("SET NX PX + delete script") {
            @Override
            public boolean waits() {
                return false;
            }

            @Override
            public void cycle(String key) {
                String owner = owners.get();
                RBucket<String> bucket = client.getBucket(prefix + key, StringCodec.INSTANCE);
                if (!bucket.setIfAbsent(owner, OursContender.LEASE)) {
                    throw new IllegalStateException("SET NX found \"" + key + "\" taken");
                }
                Long deleted = script.evalSha(RScript.Mode.READ_WRITE, sha, RScript.ReturnType.LONG,
                        List.of(prefix + key), owner);
                if (deleted == null || deleted != 1L) {
                    throw new IllegalStateException("delete script did not delete \"" + key + "\"");
                }
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) {
                throw new UnsupportedOperationException("the floor has no way to wait");
            }
        };
    }

    /**
     * Curator's {@code InterProcessMutex} for one key, {@code InterProcessMultiLock} for several (both
     * wait with {@code acquire(time)}).
     */
    static Contender curator(CuratorFramework client, String root) {
        ConcurrentHashMap<String, InterProcessMutex> mutexes = new ConcurrentHashMap<>();
        return new Peer("Curator InterProcessMutex") {
            @Override
            public String multiName() {
                return "Curator InterProcessMultiLock";
            }

            @Override
            public void cycle(String key) throws Exception {
                InterProcessMutex mutex = new InterProcessMutex(client, root + "/" + key);
                mutex.acquire();
                mutex.release();
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                InterProcessLock lock;
                if (keys.size() == 1) {
                    // One instance per path, shared by the threads, as an application would keep it.
                    lock = mutexes.computeIfAbsent(keys.get(0), k -> new InterProcessMutex(client, root + "/" + k));
                } else {
                    List<String> paths = new ArrayList<>(keys.size());
                    for (String key : keys) {
                        paths.add(root + "/" + key);
                    }
                    lock = new InterProcessMultiLock(client, paths);
                }
                if (!lock.acquire(remainingMillis(giveUpNanos), TimeUnit.MILLISECONDS)) {
                    throw new TimeoutException("gave up waiting for " + keys);
                }
                try {
                    section.run();
                } finally {
                    lock.release();
                }
            }
        };
    }

    /**
     * Hazelcast's {@code IMap.lock}/{@code unlock} through a client ({@code lock(key, 30 s)} for one key;
     * {@code tryLock(key, wait)} for sections, several keys one after another in the order given).
     */
    static Contender hazelcast(HazelcastInstance client, String mapName) {
        IMap<String, String> map = client.getMap(mapName);
        return new Peer("Hazelcast IMap.lock") {
            @Override
            public String multiName() {
                return "Hazelcast IMap.lock per key";
            }

            @Override
            public void cycle(String key) {
                map.lock(key, LEASE_MILLIS, TimeUnit.MILLISECONDS);
                try {
                    // nothing: the cycle is the lock and the unlock
                } finally {
                    map.unlock(key);
                }
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                perKey(keys, (key, wait) -> map.tryLock(key, wait, TimeUnit.MILLISECONDS) ? () -> map.unlock(key)
                        : null, section, giveUpNanos);
            }
        };
    }

    /**
     * A {@code ConcurrentHashMap} of {@code ReentrantLock}s: for one fresh key, the lock is made, taken,
     * released and removed again (so the map does not grow); for sections, the locks stay in the map.
     */
    static Contender reentrantLocks() {
        return reentrantLocks(false);
    }

    /**
     * {@link #reentrantLocks()} with fair locks ({@code new ReentrantLock(true)}: the longest waiter enters
     * next), named {@value #FAIR_REENTRANT}; measured in W3 and W4 only.
     */
    static Contender fairReentrantLocks() {
        return reentrantLocks(true);
    }

    private static Contender reentrantLocks(boolean fair) {
        ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();
        return new Peer(fair ? FAIR_REENTRANT : "ConcurrentHashMap+ReentrantLock") {
            @Override
            public String multiName() {
                return fair ? FAIR_REENTRANT + " per key" : "ReentrantLock per key";
            }

            @Override
            public void cycle(String key) {
                ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock(fair));
                lock.lock();
                try {
                    // nothing: the cycle is the lock and the unlock
                } finally {
                    lock.unlock();
                }
                locks.remove(key, lock);
            }

            @Override
            public void locked(List<String> keys, Runnable section, long giveUpNanos) throws Exception {
                ReentrantLock[] held = new ReentrantLock[keys.size()];
                int taken = 0;
                try {
                    for (String key : keys) {
                        ReentrantLock lock = locks.computeIfAbsent(key, k -> new ReentrantLock(fair));
                        if (!lock.tryLock(remainingMillis(giveUpNanos), TimeUnit.MILLISECONDS)) {
                            throw new TimeoutException("gave up waiting for " + key);
                        }
                        held[taken++] = lock;
                    }
                    section.run();
                } finally {
                    for (int i = taken - 1; i >= 0; i--) {
                        held[i].unlock();
                    }
                }
            }
        };
    }
}
