/**
 * A small toolkit for writing a provider: the pieces every backend mapping needs, written once so that
 * each provider (the bundled ones and third-party ones) applies the same rule the same way.
 *
 * <ul>
 *   <li>{@link dev.locking.spi.support.LockingClock}: where a provider reads the time, monotonic for
 *       durations and wall-clock for what it reports; tests pass a clock they move by hand.</li>
 *   <li>{@link dev.locking.spi.support.Leases}: turns a lease into the backend's unit (rounded up, so a
 *       positive lease never becomes zero or "never"), caps it at {@link dev.locking.spi.support.Leases#MAX}
 *       and computes an expiry that cannot overflow.</li>
 * </ul>
 *
 * <p>Everything here is stateless or immutable and safe for concurrent use.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.locking.spi.support;

import org.jspecify.annotations.NullMarked;
