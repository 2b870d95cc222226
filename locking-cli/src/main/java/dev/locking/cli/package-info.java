/**
 * The {@code locking} command: a demo of what a lock prevents, and a few operator commands
 * (providers, inspect, acquire, release) on any configured provider.
 */
@NullMarked
package dev.locking.cli;

import org.jspecify.annotations.NullMarked;
