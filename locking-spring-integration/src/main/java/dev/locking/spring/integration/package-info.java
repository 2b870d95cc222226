/**
 * Spring Integration's {@code LockRegistry} on any Locking provider:
 * {@link dev.locking.spring.integration.LockingLockRegistry}, whose
 * {@link dev.locking.spring.integration.LockingLock locks} are held on the provider, renewed while held, and
 * waited for in the service's fair, release-woken wait.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.locking.spring.integration;

import org.jspecify.annotations.NullMarked;
