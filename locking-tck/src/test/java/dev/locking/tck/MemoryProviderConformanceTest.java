package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.LockingProvider;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;

/** Runs the whole conformance kit against the in-memory provider, {@code lp_memory}. */
class MemoryProviderConformanceTest extends LockingProviderConformance {

    private final AtomicInteger created = new AtomicInteger();

    @Override
    protected LockingProvider newProvider(String id) {
        created.incrementAndGet();
        return MemoryProviderFactory.newProvider(id);
    }

    /** The kit shares one provider across all its tests, nested groups included. */
    @AfterAll
    void oneProviderForTheWholeClass() {
        assertThat(created).hasValue(1);
    }
}
