/**
 * The toolkit for a provider that keeps its locks in a SQL database through JDBC (PostgreSQL, MySQL, Oracle,
 * SQL Server): the parts that do not depend on the database, so that a provider is its SQL and the little that
 * is its driver's own (a pool's settings, a notification API, its own error codes). Only {@code java.sql} and
 * {@code javax.sql} are used; the driver and the pool stay the provider's dependencies.
 *
 * <ul>
 *   <li>{@link dev.locking.spi.support.jdbc.SqlCalls}: one statement on a connection of a pool (made on first
 *       use) or of an application's DataSource, in autocommit, after a first-use check (the schema), bounded
 *       through {@link dev.locking.spi.support.BackendCalls}, interrupts never cutting a statement short.</li>
 *   <li>{@link dev.locking.spi.support.jdbc.SqlFailures}: what a driver's failure means for the SPI (a broken
 *       connection, SQLSTATE class 08 or a timeout: unavailable, maybe taken effect; a refused login; a missing
 *       privilege; anything else refused), with the password scrubbed from messages and causes.</li>
 *   <li>{@link dev.locking.spi.support.jdbc.DedicatedConnection}: one connection outside the pool kept open by
 *       a daemon thread, for the database's notifications: set-up after every connect, polls, pings, reconnects
 *       with back-off, tells the provider, runs a periodic chore.</li>
 *   <li>{@link dev.locking.spi.support.jdbc.SqlValues}: keys and owners stored exactly as UTF-8 bytes, owners
 *       read back strictly, expiries and tokens read from replies.</li>
 *   <li>{@link dev.locking.spi.support.jdbc.SqlNames}: a JDBC URL as messages may show it, and checked
 *       identifiers; {@link dev.locking.spi.support.jdbc.SqlScript}: DDL kept as a script with placeholders.</li>
 * </ul>
 *
 * <p>{@code provider-postgres} ({@code lp_postgres}) is written on it.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.locking.spi.support.jdbc;

import org.jspecify.annotations.NullMarked;
