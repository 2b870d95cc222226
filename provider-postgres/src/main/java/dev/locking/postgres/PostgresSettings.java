package dev.locking.postgres;

import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The options of {@code lp_postgres}, read and checked once when the provider is created (nothing connects).
 *
 * <p>Concurrency: immutable.
 */
final class PostgresSettings {
    static final String DEFAULT_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";
    static final String DEFAULT_SCHEMA = "public";
    static final String DEFAULT_TABLE = "locking_locks";
    static final int DEFAULT_POOL_SIZE = 10;
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    static final List<ProviderOption> OPTIONS = List.of(ProviderOption.string("url"), ProviderOption.string("user"),
            ProviderOption.string("password"), ProviderOption.string("schema"), ProviderOption.string("table"),
            ProviderOption.integer("poolSize"), ProviderOption.duration("connectTimeout"),
            ProviderOption.duration("timeout"), ProviderOption.bool("createTable"));
    /** The options that make no sense with an application's own DataSource. */
    static final List<String> CONNECTION_OPTIONS = List.of("url", "user", "password", "poolSize", "connectTimeout");

    /** Plain identifiers only, so that names never need escaping and the derived names stay under 63 bytes. */
    private static final Pattern SCHEMA_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,39}");

    final String url;
    final @Nullable String user;
    final @Nullable String password;
    final String schema;
    final String table;
    final int poolSize;
    final Duration connectTimeout;
    final Duration timeout;
    final boolean createTable;
    /** The server as messages may show it: host, port and database, never credentials or parameters. */
    final String description;

    private PostgresSettings(String url, @Nullable String user, @Nullable String password, String schema,
            String table, int poolSize, Duration connectTimeout, Duration timeout, boolean createTable,
            String description) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.schema = schema;
        this.table = table;
        this.poolSize = poolSize;
        this.connectTimeout = connectTimeout;
        this.timeout = timeout;
        this.createTable = createTable;
        this.description = description;
    }

    static PostgresSettings parse(ProviderConfig config) {
        String url = config.option("url").orElse(DEFAULT_URL).trim();
        if (!url.startsWith("jdbc:postgresql:")) {
            // The value is not shown: a URL may carry a password.
            throw new IllegalArgumentException("option url must be a pgjdbc URL starting with jdbc:postgresql:");
        }
        int poolSize = config.option("poolSize").map(v -> parsePoolSize(v)).orElse(DEFAULT_POOL_SIZE);
        Duration connectTimeout = config.durationOption("connectTimeout").orElse(DEFAULT_CONNECT_TIMEOUT);
        return common(config::option, url, config.option("user").orElse(null),
                config.option("password").orElse(null), poolSize, connectTimeout, describe(url));
    }

    /** Settings for an application's own DataSource: only schema, table, timeout and createTable apply. */
    static PostgresSettings forDataSource(Map<String, String> options) {
        for (String name : CONNECTION_OPTIONS) {
            if (options.containsKey(name)) {
                throw new IllegalArgumentException("option " + name + " does not apply to an application's DataSource");
            }
        }
        return common(name -> Optional.ofNullable(options.get(name)), "(application's DataSource)", null, null, 0, DEFAULT_CONNECT_TIMEOUT,
                "application's DataSource");
    }

    private static PostgresSettings common(Function<String, Optional<String>> option, String url, @Nullable String user,
            @Nullable String password, int poolSize, Duration connectTimeout, String description) {
        String schema = name("schema", option.apply("schema").orElse(DEFAULT_SCHEMA), SCHEMA_NAME);
        String table = name("table", option.apply("table").orElse(DEFAULT_TABLE), TABLE_NAME);
        Duration timeout = option.apply("timeout").map(v -> OptionValues.duration("timeout", v)).orElse(DEFAULT_TIMEOUT);
        String create = option.apply("createTable").orElse("true").trim().toLowerCase(Locale.ROOT);
        if (!create.equals("true") && !create.equals("false")) {
            throw new IllegalArgumentException("option createTable must be true or false, got \"" + create + "\"");
        }
        return new PostgresSettings(url, user, password, schema, table, poolSize, connectTimeout, timeout,
                create.equals("true"), description);
    }

    private static int parsePoolSize(String value) {
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1 && n <= 1000) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("option poolSize must be a whole number from 1 to 1000, got \"" + value + "\"");
    }

    private static String name(String option, String value, Pattern allowed) {
        if (!allowed.matcher(value).matches()) {
            throw new IllegalArgumentException("option " + option + " must be a plain identifier (letters, digits and"
                    + " _, not starting with a digit, at most " + (allowed == TABLE_NAME ? 40 : 63)
                    + " characters), got \"" + value + "\"");
        }
        return value;
    }

    /** Host, port and database of a JDBC URL, without user info or parameters (which may carry a password). */
    static String describe(String url) {
        String rest = url.substring("jdbc:postgresql:".length());
        int query = rest.indexOf('?');
        if (query >= 0) {
            rest = rest.substring(0, query);
        }
        if (rest.startsWith("//")) {
            rest = rest.substring(2);
            int at = rest.lastIndexOf('@', rest.indexOf('/') < 0 ? rest.length() : rest.indexOf('/'));
            if (at >= 0) {
                rest = rest.substring(at + 1);
            }
        }
        return "PostgreSQL at " + rest;
    }
}
