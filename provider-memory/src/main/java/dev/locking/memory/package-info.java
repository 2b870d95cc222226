/**
 * The in-memory provider {@code lp_memory}: locks that exclude threads of this JVM only.
 *
 * <p>Found through {@link dev.locking.memory.MemoryProviderFactory} (type {@code memory}); everything else
 * in this package is internal.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.memory;

import org.jspecify.annotations.NullMarked;
