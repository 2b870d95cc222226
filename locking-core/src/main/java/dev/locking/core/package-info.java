/**
 * The core: {@link dev.locking.core.Locking}, the entry point that discovers providers, reads
 * configuration and builds a {@link dev.locking.api.LockingService}. Everything else here is internal:
 * validation, waiting, lease renewal and nesting are done once, for every provider.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.core;

import org.jspecify.annotations.NullMarked;
