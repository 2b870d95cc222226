package dev.locking.postgres;

import dev.locking.spi.LockingProvider;
import dev.locking.spi.LockingProviderFactory;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Creates {@code lp_postgres} providers: locks kept as rows of one PostgreSQL table, each operation one statement
 * (one round trip), the database's clock the only judge of expiry, and waiters woken by {@code LISTEN}/{@code NOTIFY}.
 *
 * <p>Found by {@link java.util.ServiceLoader}: with this jar on the classpath, {@code Locking.create()} offers
 * {@code lp_postgres}. Nothing connects when the provider is created; the pool (HikariCP) connects on first use,
 * and the table, its queue and its functions are checked (and with {@code createTable} made) then.
 *
 * <h2>Options</h2>
 * Given as {@code locking.providers.postgres.<option>} (or for a named instance
 * {@code locking.providers.<name>.<option>} with {@code type=postgres}); durations take {@code PT5S},
 * {@code 5s}, {@code 500ms} or plain milliseconds.
 * <table>
 *   <caption>Options of lp_postgres</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code url}</td><td>{@code jdbc:postgresql://127.0.0.1:5432/postgres}</td><td>the server, as a
 *       pgjdbc URL</td></tr>
 *   <tr><td>{@code user}</td><td>the driver's</td><td>the role to log in as</td></tr>
 *   <tr><td>{@code password}</td><td>none</td><td>its password; never logged or put in a message</td></tr>
 *   <tr><td>{@code schema}</td><td>{@code public}</td><td>where the table lives; a plain identifier</td></tr>
 *   <tr><td>{@code table}</td><td>{@code locking_locks}</td><td>the lock table (its queue is
 *       {@code <table>_queue}, its functions {@code <table>_<name>}); a plain identifier of at most 40
 *       characters</td></tr>
 *   <tr><td>{@code poolSize}</td><td>10</td><td>the most pooled connections (plus one for LISTEN)</td></tr>
 *   <tr><td>{@code connectTimeout}</td><td>5 s</td><td>getting a connection</td></tr>
 *   <tr><td>{@code timeout}</td><td>5 s</td><td>one statement on the server</td></tr>
 *   <tr><td>{@code createTable}</td><td>{@code true}</td><td>create what is missing on first use (safe when
 *       several JVMs start at once); {@code false}: fail with a message that holds the DDL to run</td></tr>
 * </table>
 *
 * <h2>An application's own DataSource</h2>
 * <pre>{@code
 * LockingService locking = Locking.builder()
 *         .provider(PostgresProviderFactory.fromDataSource("lp_postgres", dataSource, Map.of("table", "app_locks")))
 *         .build();
 * }</pre>
 * The provider then borrows its connections from that DataSource (keeping one for LISTEN) and never closes it.
 *
 * @since 0.2.0
 */
public final class PostgresProviderFactory implements LockingProviderFactory {
    /** The provider type; the default instance's id is {@code lp_postgres}. */
    public static final String TYPE = "postgres";

    /** Creates the factory; {@link java.util.ServiceLoader} calls this. */
    public PostgresProviderFactory() {
        // nothing to set up
    }

    @Override
    public String type() {
        return TYPE;
    }

    /**
     * Declares the options in the table above, with their formats; the core warns about any other option.
     *
     * @return the options of {@code lp_postgres}
     */
    @Override
    public Optional<List<ProviderOption>> options() {
        return Optional.of(PostgresSettings.OPTIONS);
    }

    /**
     * Creates a provider from options (see the class documentation); does not connect.
     *
     * @throws IllegalArgumentException if an option has a value the provider cannot use; the message names the
     *                                  option and never shows the password
     */
    @Override
    public LockingProvider create(ProviderConfig config) {
        return new PostgresLockingProvider(config.id(), PostgresSettings.parse(config::option, false), null);
    }

    /**
     * Creates a provider that works through an application's own {@link DataSource}, with the default schema
     * and table.
     *
     * @param id         the provider id to register it under, such as {@code lp_postgres}
     * @param dataSource where connections come from; the provider never closes it
     * @return a provider for {@code Locking.builder().provider(...)}
     * @see #fromDataSource(String, DataSource, Map)
     */
    public static LockingProvider fromDataSource(String id, DataSource dataSource) {
        return fromDataSource(id, dataSource, Map.of());
    }

    /**
     * Creates a provider that works through an application's own {@link DataSource}. Its connections must be in
     * autocommit mode when handed out (the pool's default) and reach PostgreSQL directly: {@code LISTEN} needs a
     * session of its own, so a pooler in transaction mode (PgBouncer) does not do for the connection the provider
     * keeps for it. Each statement is bounded by {@code timeout} through {@link java.sql.Statement#setQueryTimeout}.
     *
     * @param id         the provider id to register it under, such as {@code lp_postgres}
     * @param dataSource where connections come from; the provider keeps one for LISTEN and never closes the
     *                   DataSource
     * @param options    {@code schema}, {@code table}, {@code timeout} and {@code createTable}, as above
     * @return a provider for {@code Locking.builder().provider(...)}
     * @throws IllegalArgumentException if {@code id} is blank or an option is not usable (connection options do
     *                                  not apply)
     */
    public static LockingProvider fromDataSource(String id, DataSource dataSource, Map<String, String> options) {
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank");
        }
        Objects.requireNonNull(dataSource, "dataSource");
        return new PostgresLockingProvider(id, PostgresSettings.parse(name -> Optional.ofNullable(options.get(name)), true), dataSource);
    }
}
