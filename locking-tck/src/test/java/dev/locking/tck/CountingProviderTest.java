package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The kit's counting provider sees every lock call, the hand-off's included, so "nothing reached it" means it. */
class CountingProviderTest {
    private final LockingProvider memory = MemoryProviderFactory.newProvider("lp_memory");
    private final CountingProvider counted = new CountingProvider(memory);

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void everyHandOffCall_changesTheSnapshot() throws Exception {
        Duration lease = Duration.ofSeconds(30);
        CountingProvider.Calls start = counted.calls();
        counted.acquireOrQueue("k", "exec:a", lease, lease);
        CountingProvider.Calls afterAcquireOrQueue = counted.calls();
        assertThat(afterAcquireOrQueue).as("after acquireOrQueue").isNotEqualTo(start);
        counted.acquireOrQueue("k", "exec:b", lease, lease);
        counted.release(List.of("k"), "exec:a");
        CountingProvider.Calls beforeAwaitGrant = counted.calls();
        assertThat(counted.awaitGrant("k", "exec:b", Duration.ofMillis(10))).isNotNull();
        assertThat(counted.calls()).as("after awaitGrant").isNotEqualTo(beforeAwaitGrant);
        CountingProvider.Calls beforeLeaveQueue = counted.calls();
        counted.leaveQueue("k", "exec:b");
        assertThat(counted.calls()).as("after leaveQueue").isNotEqualTo(beforeLeaveQueue);
        assertThat(counted.calls()).isEqualTo(new CountingProvider.Calls(0, 2, 0, 1, 0, 0, 0, 1, 1));
        assertThat(counted.awaits()).as("awaitGrant is a wait on the provider").isEqualTo(1);
    }
}
