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
 *   <li>{@link dev.locking.spi.support.KeyWaiters}: the threads waiting in {@code awaitRelease}, by key,
 *       woken by the backend's release notification, each sleep bounded by a slice.</li>
 *   <li>{@link dev.locking.spi.support.BackendCalls}: every backend call bounded by a deadline, and an
 *       interrupt never cuts short a call that changes locks; a call without an answer throws
 *       {@link dev.locking.spi.support.BackendCallException}, which says whether it may have taken effect.</li>
 *   <li>{@link dev.locking.spi.support.GrantInbox}: for a provider that hands keys off in its backend, each
 *       queued owner's slot for its grant, registered before the queue step (given the owner's stay, it computes
 *       how long to keep the slot), filled by the backend's grant message, slept on in {@code awaitGrant}.</li>
 *   <li>{@link dev.locking.spi.support.ForwardingLockingProvider}: a provider that wraps another.</li>
 * </ul>
 *
 * <p>A provider on a SQL database finds the rest in {@link dev.locking.spi.support.jdbc}: statements on a pool
 * or an application's DataSource, what SQLSTATEs mean, the schema checked and created, and one kept connection
 * for the database's notifications.
 *
 * <p>Option declaration lives in the SPI itself: {@link dev.locking.spi.LockingProviderFactory#options()}
 * declares a factory's options with {@link dev.locking.spi.ProviderOption}, and the core checks them.
 *
 * <p>Everything here is safe for concurrent use.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.locking.spi.support;

import org.jspecify.annotations.NullMarked;
