/**
 * The Locking API: what an application calls.
 *
 * <p>Start from {@link dev.locking.api.LockingService}, obtained from {@code dev.locking.core.Locking}.
 * Every failure this library reports is a {@link dev.locking.api.LockingException}; bad arguments are
 * {@link java.lang.IllegalArgumentException}. Nothing here accepts or returns {@code null} unless the
 * member says so.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.locking.api;

import org.jspecify.annotations.NullMarked;
