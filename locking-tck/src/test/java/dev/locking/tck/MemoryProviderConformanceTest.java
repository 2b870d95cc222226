package dev.locking.tck;

import dev.locking.memory.MemoryProviderFactory;
import dev.locking.spi.LockingProvider;

/** Runs the whole conformance kit against the in-memory provider, {@code lp_memory}. */
class MemoryProviderConformanceTest extends LockingProviderConformance {

    @Override
    protected LockingProvider newProvider(String id) {
        return MemoryProviderFactory.newProvider(id);
    }
}
