package dev.locking.bench;

import dev.locking.api.AcquireOptions;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ReleaseOptions;
import java.time.Duration;
import java.util.List;

/**
 * A Locking provider, used as an application would: {@code acquire} with an owner and a lease, then
 * {@code release}, for one key; {@code execute} (which waits, renews and releases) for sections.
 *
 * <p>Concurrency: the workload's threads call it at once; it holds the thread-safe service, immutable
 * options, and each thread's owner in a thread-local.
 */
final class OursContender implements Contender {
    /** The lease of W1/W2's locks and of {@code execute}: 30 s, like Redisson's watchdog. */
    static final Duration LEASE = Duration.ofSeconds(30);
    /** How long {@code execute} waits: long enough that a wait never times out in a run. */
    static final Duration EXECUTE_TIMEOUT = Duration.ofSeconds(60);

    private final LockingService locking;
    private final String providerId;
    private final ExecuteOptions execute;
    /** Each thread is its own owner, as the workers of an application would be. */
    private final ThreadLocal<Owner> owners;

    private record Owner(AcquireOptions acquire, ReleaseOptions release) {}

    OursContender(LockingService locking, String providerId) {
        this.locking = locking;
        this.providerId = providerId;
        this.execute = ExecuteOptions.builder().provider(providerId).expire(LEASE).timeout(EXECUTE_TIMEOUT).build();
        this.owners = ThreadLocal.withInitial(() -> {
            String owner = "bench-" + Thread.currentThread().getName();
            return new Owner(AcquireOptions.builder().provider(providerId).ownerId(owner).expire(LEASE).build(),
                    ReleaseOptions.builder().provider(providerId).ownerId(owner).build());
        });
    }

    @Override
    public String name() {
        return providerId;
    }

    @Override
    public boolean ours() {
        return true;
    }

    LockingService service() {
        return locking;
    }

    @Override
    public void cycle(String key) {
        Owner owner = owners.get();
        locking.acquire(key, owner.acquire());
        if (!locking.release(key, owner.release())) {
            throw new IllegalStateException("release of \"" + key + "\" on " + providerId + " returned false");
        }
    }

    @Override
    public void locked(List<String> keys, Runnable section, long giveUpNanos) {
        locking.execute(keys, lock -> {
            section.run();
            return Boolean.TRUE;
        }, execute);
    }
}
