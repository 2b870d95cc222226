/**
 * Micrometer meters for a {@code LockingService}: {@link dev.locking.micrometer.LockingMetrics}, a
 * {@link dev.locking.api.LockingListener} that records into a {@code MeterRegistry}.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.locking.micrometer;

import org.jspecify.annotations.NullMarked;
