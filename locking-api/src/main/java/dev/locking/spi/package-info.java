/**
 * The provider SPI: what a backend implements so that {@code LockingService} can use it.
 *
 * <p>A provider jar registers a {@link dev.locking.spi.LockingProviderFactory} in
 * {@code META-INF/services/dev.locking.spi.LockingProviderFactory}. The core does validation, defaults,
 * waiting, lease renewal, nesting and logging; a provider does only the few atomic things its backend
 * can do. Providers depend on this package and {@code dev.locking.api} only. A factory declares its
 * options with {@link dev.locking.spi.ProviderOption}, so the core warns about unknown ones and checks
 * value formats the same way for every provider. {@link dev.locking.spi.support} holds the toolkit the bundled
 * providers use as well: one clock and lease normalisation.
 *
 * <p>Check a provider with the conformance kit in {@code locking-tck}: extend
 * {@code dev.locking.tck.LockingProviderConformance} in a test.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.spi;

import org.jspecify.annotations.NullMarked;
