package dev.locking.memory;

import static dev.locking.memory.Providers.acquired;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Released and expired keys leave nothing behind: no record, no owner entry, no wait queue. */
class MemoryLockingProviderGarbageTest {

    private static final Duration LEASE = Duration.ofMinutes(1);

    private final FakeTime time = new FakeTime();
    private final MemoryLockingProvider provider = Providers.onFakeTime(time);

    @AfterEach
    void closeProvider() {
        provider.close();
    }

    private void assertEmpty() {
        assertThat(provider.size()).as("records").isZero();
        assertThat(provider.ownerCount()).as("owners").isZero();
        assertThat(provider.queueCount()).as("wait queues").isZero();
        assertThat(provider.waiterCount()).as("waiters").isZero();
    }

    @Test
    void aMillionDistinctKeysTakenAndReleased_leaveEveryMapEmpty() {
        for (int i = 0; i < 1_000_000; i++) {
            List<String> keys = List.of("key-" + i);
            String owner = switch (i % 3) {
                case 0 -> null;
                case 1 -> "owner-" + (i % 1_000);
                default -> "owner";
            };
            Duration lease = i % 2 == 0 ? LEASE : null;
            if (!(provider.tryAcquire(keys, owner, lease) instanceof AcquireResult.Acquired)) {
                fail("could not take " + keys);
            }
            if (!provider.release(keys, owner)) {
                fail("could not release " + keys);
            }
        }

        assertEmpty();
    }

    @Test
    void manyKeysOfManyOwners_releasedByReleaseAll_leaveEveryMapEmpty() {
        for (int i = 0; i < 100_000; i++) {
            acquired(provider.tryAcquire(List.of("key-" + i), "owner-" + (i % 100), null));
        }
        acquired(provider.tryAcquire(List.of("multi-a", "multi-b", "multi-c"), "owner-7", LEASE));

        for (int owner = 0; owner < 100; owner++) {
            provider.releaseAll("owner-" + owner);
        }

        assertEmpty();
    }

    @Test
    void manyExpiredKeys_sweptAway_leaveEveryMapEmpty() {
        for (int i = 0; i < 100_000; i++) {
            String owner = i % 2 == 0 ? null : "owner-" + (i % 50);
            acquired(provider.tryAcquire(List.of("key-" + i), owner, LEASE));
        }
        time.advance(LEASE);

        provider.sweep();

        assertEmpty();
    }

    @Test
    void waitsThatTimeOut_leaveNoQueueBehind() throws InterruptedException {
        MemoryLockingProvider onSystemTime = Providers.onSystemTime(Duration.ofHours(1));
        try {
            for (int i = 0; i < 200; i++) {
                List<String> keys = List.of("key-" + i, "other-" + i);
                acquired(onSystemTime.tryAcquire(keys, "holder", null));
                onSystemTime.awaitRelease(keys, Duration.ofMillis(1));
                onSystemTime.release(keys, "holder");
            }
            assertThat(onSystemTime.size()).isZero();
            assertThat(onSystemTime.queueCount()).isZero();
            assertThat(onSystemTime.waiterCount()).isZero();
        } finally {
            onSystemTime.close();
        }
    }
}
