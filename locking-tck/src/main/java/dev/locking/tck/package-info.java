/**
 * The provider conformance kit: an abstract JUnit suite that checks a {@link dev.locking.spi.LockingProvider}
 * against every rule of the Locking semantics, and a launcher for contention tests across JVMs.
 *
 * <p>Add {@code dev.locking:locking-tck} as a test dependency of a provider module and extend
 * {@link dev.locking.tck.LockingProviderConformance} once per backend topology. Distributed providers can
 * also run {@link dev.locking.tck.MultiJvmContention}.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.tck;

import org.jspecify.annotations.NullMarked;
