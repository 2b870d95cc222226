package dev.locking.tck;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.ForwardingLockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The provider the kit registers with each test's {@code LockingService}: it passes every call to the
 * provider under test and counts it, so a test can prove which calls the core made (none, for bad input).
 *
 * <p>{@link #close()} does not close the delegate: the kit shares one provider across the tests of a class
 * and closes it itself after the last one.
 *
 * <p>Concurrency: the counters are atomic and the time of the last confirmed extend is volatile; the core's
 * threads (callers, renewer, waiters) call it at once.
 */
final class CountingProvider extends ForwardingLockingProvider {
    private final AtomicInteger tryAcquires = new AtomicInteger();
    private final AtomicInteger acquireOrQueues = new AtomicInteger();
    private final AtomicInteger extendCalls = new AtomicInteger();
    private final AtomicInteger releases = new AtomicInteger();
    private final AtomicInteger releaseAlls = new AtomicInteger();
    private final AtomicInteger inspects = new AtomicInteger();
    private final AtomicInteger awaitReleases = new AtomicInteger();
    private final AtomicInteger awaitGrants = new AtomicInteger();
    private final AtomicInteger leaveQueues = new AtomicInteger();
    private final AtomicInteger confirmedExtends = new AtomicInteger();
    /** {@link System#nanoTime()} when the last extend that returned true was called (sent). */
    private volatile long lastConfirmedExtendSentNanos;

    CountingProvider(LockingProvider delegate) {
        super(delegate);
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        tryAcquires.incrementAndGet();
        return delegate.tryAcquire(keys, ownerId, lease);
    }

    @Override
    public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
        acquireOrQueues.incrementAndGet();
        return delegate.acquireOrQueue(key, ownerId, lease, stay);
    }

    /** The number of {@code acquireOrQueue} calls. */
    int acquireOrQueues() {
        return acquireOrQueues.get();
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        extendCalls.incrementAndGet();
        long sent = System.nanoTime();
        boolean held = delegate.extend(keys, ownerId, lease);
        if (held) {
            lastConfirmedExtendSentNanos = sent;
            confirmedExtends.incrementAndGet();
        }
        return held;
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        releases.incrementAndGet();
        return delegate.release(keys, ownerId);
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        releaseAlls.incrementAndGet();
        delegate.releaseAll(ownerId);
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        inspects.incrementAndGet();
        return delegate.inspect(key);
    }

    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        awaitReleases.incrementAndGet();
        delegate.awaitRelease(keys, maxWait);
    }

    /** Counted in {@link #awaits()} too: for a provider that hands off, this is how {@code execute} waits. */
    @Override
    public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
            throws InterruptedException {
        awaitGrants.incrementAndGet();
        return delegate.awaitGrant(key, ownerId, maxWait);
    }

    @Override
    public void leaveQueue(String key, String ownerId) {
        leaveQueues.incrementAndGet();
        delegate.leaveQueue(key, ownerId);
    }

    /** Leaves the delegate open: the kit closes it after the last test of the class. */
    @Override
    public void close() {}

    /** How many waits on the provider ({@code awaitRelease}, or {@code awaitGrant} for one that hands off) began. */
    int awaits() {
        return awaitReleases.get() + awaitGrants.get();
    }

    /** How many {@code extend} calls returned true. */
    int confirmedExtends() {
        return confirmedExtends.get();
    }

    /** When ({@link System#nanoTime()}) the last {@code extend} that returned true was called; 0 if none did. */
    long lastConfirmedExtendSentNanos() {
        return lastConfirmedExtendSentNanos;
    }

    /** A snapshot of every counter. */
    Calls calls() {
        return new Calls(tryAcquires.get(), acquireOrQueues.get(), extendCalls.get(), releases.get(),
                releaseAlls.get(), inspects.get(), awaitReleases.get(), awaitGrants.get(), leaveQueues.get());
    }

    /** Counts of calls that reached the provider under test, one per SPI method that works on locks. */
    record Calls(int tryAcquire, int acquireOrQueue, int extend, int release, int releaseAll, int inspect,
            int awaitRelease, int awaitGrant, int leaveQueue) {}
}
