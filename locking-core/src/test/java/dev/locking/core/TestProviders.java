package dev.locking.core;

import dev.locking.api.LockInfo;
import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.ForwardingLockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/** Provider factories and wrappers for the core's tests; the locking itself is always the real lp_memory. */
final class TestProviders {
    private TestProviders() {}

    /** Configs the {@link RecordingFactory} was given, by id. */
    static final Map<String, ProviderConfig> CONFIGS = new ConcurrentHashMap<>();

    /** Type "recording": an lp_memory store under another id that remembers its config. */
    public static final class RecordingFactory implements LockingProviderFactory {
        @Override
        public String type() {
            return "recording";
        }

        @Override
        public LockingProvider create(ProviderConfig config) {
            CONFIGS.put(config.id(), config);
            return new CountingProvider(MemoryProviderFactory.newProvider(config.id()));
        }
    }

    /** Type "declaring": a third party's factory that declares its options; an lp_memory store otherwise. */
    public static final class DeclaringFactory implements LockingProviderFactory {
        @Override
        public String type() {
            return "declaring";
        }

        @Override
        public Optional<List<ProviderOption>> options() {
            return Optional.of(List.of(ProviderOption.integer("retries"), ProviderOption.bool("fast"),
                    ProviderOption.duration("wait"), ProviderOption.string("name")));
        }

        @Override
        public LockingProvider create(ProviderConfig config) {
            CONFIGS.put(config.id(), config);
            return MemoryProviderFactory.newProvider(config.id());
        }
    }

    /** Type "failing": its factory throws. */
    public static final class FailingFactory implements LockingProviderFactory {
        @Override
        public String type() {
            return "failing";
        }

        @Override
        public LockingProvider create(ProviderConfig config) {
            throw new IllegalStateException("backend misconfigured on purpose");
        }
    }

    /** A second factory claiming type "recording". */
    public static final class RivalRecordingFactory implements LockingProviderFactory {
        @Override
        public String type() {
            return "recording";
        }

        @Override
        public LockingProvider create(ProviderConfig config) {
            return MemoryProviderFactory.newProvider(config.id());
        }
    }

    /**
     * A class loader that sees the test classpath plus a service file naming the given factories (class
     * names, which need not exist, to test broken jars).
     */
    static ClassLoader loaderWith(Path dir, String... factoryClassNames) {
        try {
            Path services = dir.resolve("META-INF/services");
            Files.createDirectories(services);
            Files.writeString(services.resolve(LockingProviderFactory.class.getName()),
                    String.join("\n", factoryClassNames) + "\n");
            return new URLClassLoader(new URL[] {dir.toUri().toURL()}, TestProviders.class.getClassLoader());
        } catch (MalformedURLException e) {
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Adds {@code locking.properties} to a directory a {@link #loaderWith} loader serves. */
    static void writeProperties(Path dir, String content) {
        try {
            Files.writeString(dir.resolve("locking.properties"), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Delegates to a real provider and counts every call, to prove which calls reached it; tests that inject
     * faults extend it.
     */
    static class CountingProvider extends ForwardingLockingProvider {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger tryAcquires = new AtomicInteger();
        final AtomicInteger extends_ = new AtomicInteger();
        final AtomicInteger awaits = new AtomicInteger();
        volatile boolean failExtend;
        volatile boolean handsOff;
        volatile boolean failLeaveQueue;
        final AtomicInteger acquireOrQueues = new AtomicInteger();
        final AtomicInteger awaitGrants = new AtomicInteger();
        /** The {@code stay} of the last {@code acquireOrQueue}. */
        volatile @Nullable Duration lastStay;
        /** The longest {@code maxWait} an {@code awaitGrant} was given, in nanoseconds. */
        final java.util.concurrent.atomic.AtomicLong longestAwaitGrant = new java.util.concurrent.atomic.AtomicLong();
        final AtomicInteger leaveQueues = new AtomicInteger();
        /** Runs after each release the backend did, before the call returns (to order threads in a test). */
        volatile Runnable afterRelease = () -> {};

        CountingProvider(LockingProvider delegate) {
            super(delegate);
        }

        @Override
        public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
            calls.incrementAndGet();
            tryAcquires.incrementAndGet();
            return delegate.tryAcquire(keys, ownerId, lease);
        }

        @Override
        public boolean extend(List<String> keys, String ownerId, Duration lease) {
            calls.incrementAndGet();
            extends_.incrementAndGet();
            if (failExtend) {
                throw new IllegalStateException("backend unreachable (test)");
            }
            return delegate.extend(keys, ownerId, lease);
        }

        @Override
        public boolean release(List<String> keys, @Nullable String ownerId) {
            calls.incrementAndGet();
            boolean released = delegate.release(keys, ownerId);
            afterRelease.run();
            return released;
        }

        @Override
        public void releaseAll(@Nullable String ownerId) {
            calls.incrementAndGet();
            delegate.releaseAll(ownerId);
        }

        @Override
        public Optional<LockInfo> inspect(String key) {
            calls.incrementAndGet();
            return delegate.inspect(key);
        }

        @Override
        public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
            calls.incrementAndGet();
            awaits.incrementAndGet();
            delegate.awaitRelease(keys, maxWait);
        }

        /**
         * Off unless a test turns it on: the core's tests of the notification path (and their fault injection
         * in tryAcquire) keep testing that path although the real lp_memory behind hands off.
         */
        @Override
        public boolean handsOff() {
            return handsOff;
        }

        @Override
        public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
            calls.incrementAndGet();
            acquireOrQueues.incrementAndGet();
            lastStay = stay;
            return delegate.acquireOrQueue(key, ownerId, lease, stay);
        }

        @Override
        public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
                throws InterruptedException {
            calls.incrementAndGet();
            awaitGrants.incrementAndGet();
            longestAwaitGrant.accumulateAndGet(maxWait.toNanos(), Math::max);
            return delegate.awaitGrant(key, ownerId, maxWait);
        }

        @Override
        public void leaveQueue(String key, String ownerId) {
            calls.incrementAndGet();
            leaveQueues.incrementAndGet();
            if (failLeaveQueue) {
                throw new RuntimeException("backend unreachable (test)");
            }
            delegate.leaveQueue(key, ownerId);
        }
    }
}
