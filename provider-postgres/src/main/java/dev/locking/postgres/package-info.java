/**
 * The PostgreSQL provider, {@code lp_postgres}: locks as rows of one table, each operation one statement.
 *
 * <p>Applications use it through {@code dev.locking.core.Locking} (the jar on the classpath is enough) or build
 * one around a {@link javax.sql.DataSource} they already have with
 * {@link dev.locking.postgres.PostgresProviderFactory#fromDataSource}. Everything else here is internal.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.locking.postgres;

import org.jspecify.annotations.NullMarked;
