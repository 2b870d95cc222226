package dev.locking.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Helpers shared by the provider tests. */
final class Providers {

    /** A short wait slice, so that a waiter on a fake clock looks at its keys again soon. */
    static final Duration SLICE = Duration.ofMillis(250);

    /** How long a freed key stays reserved for the waiter it was handed to. */
    static final Duration GRACE = Reservations.DEFAULT_GRACE;

    private Providers() {}

    /** A provider on a fake clock whose sweeper practically never runs by itself. */
    static MemoryLockingProvider onFakeTime(FakeTime time) {
        return new MemoryLockingProvider("lp_memory", time, Duration.ofHours(1), SLICE);
    }

    /** A provider on the system clock with the given sweep interval. */
    static MemoryLockingProvider onSystemTime(Duration sweepInterval) {
        return new MemoryLockingProvider("lp_memory", LockingClock.SYSTEM, sweepInterval, SLICE);
    }

    static AcquireResult.Acquired acquired(AcquireResult result) {
        assertThat(result).isInstanceOf(AcquireResult.Acquired.class);
        return (AcquireResult.Acquired) result;
    }

    static long token(AcquireResult result, String key) {
        Long token = acquired(result).fencingTokens().get(key);
        assertThat(token).as("token of %s", key).isNotNull();
        return token == null ? -1 : token;
    }

    /**
     * Takes the keys the way the core does: try, and on conflict wait for the conflicting key, in slices.
     */
    static AcquireResult.Acquired acquireWaiting(MemoryLockingProvider provider, List<String> keys,
            @Nullable String owner, @Nullable Duration lease, Duration slice) throws InterruptedException {
        while (true) {
            AcquireResult result = provider.tryAcquire(keys, owner, lease);
            if (result instanceof AcquireResult.Acquired acquired) {
                return acquired;
            }
            provider.awaitRelease(List.of(((AcquireResult.Conflict) result).key()), slice);
        }
    }
}
