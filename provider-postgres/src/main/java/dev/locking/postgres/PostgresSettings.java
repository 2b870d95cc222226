package dev.locking.postgres;

import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderOption;
import dev.locking.spi.support.jdbc.SqlNames;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * The options of {@code lp_postgres}, read and checked once when the provider is created (nothing connects).
 * Formats are checked by {@link ProviderOption#check} (the core has done so already for configured providers);
 * ranges and names here.
 *
 * <p>Concurrency: immutable.
 *
 * @param description the server as messages may show it: host, port and database, never credentials or
 *                    parameters
 */
record PostgresSettings(String url, @Nullable String user, @Nullable String password, String schema, String table,
        int poolSize, Duration connectTimeout, Duration timeout, boolean createTable, String description) {

    static final List<ProviderOption> OPTIONS = List.of(ProviderOption.string("url"), ProviderOption.string("user"),
            ProviderOption.string("password"), ProviderOption.string("schema"), ProviderOption.string("table"),
            ProviderOption.integer("poolSize"), ProviderOption.duration("connectTimeout"),
            ProviderOption.duration("timeout"), ProviderOption.bool("createTable"));
    /** The options that make no sense with an application's own DataSource. */
    private static final List<String> CONNECTION_OPTIONS = List.of("url", "user", "password", "poolSize",
            "connectTimeout");

    /**
     * Reads options through {@code option} (a {@link dev.locking.spi.ProviderConfig}'s lookup, or an
     * application's map with {@code dataSource} true, where the connection options do not apply).
     *
     * @throws IllegalArgumentException naming the option (never showing the url or the password)
     */
    static PostgresSettings parse(Function<String, Optional<String>> option, boolean dataSource) {
        for (ProviderOption declared : OPTIONS) {
            Optional<String> value = option.apply(declared.name());
            if (value.isPresent() && dataSource && CONNECTION_OPTIONS.contains(declared.name())) {
                throw new IllegalArgumentException("option " + declared.name()
                        + " does not apply to an application's DataSource");
            }
            value.ifPresent(declared::check);
        }
        String url = option.apply("url").orElse("jdbc:postgresql://127.0.0.1:5432/postgres").trim();
        if (!dataSource && !url.startsWith("jdbc:postgresql:")) {
            // The value is not shown: a URL may carry a password.
            throw new IllegalArgumentException("option url must be a pgjdbc URL starting with jdbc:postgresql:");
        }
        int poolSize = option.apply("poolSize").map(v -> Integer.parseInt(v.trim())).orElse(10);
        if (poolSize < 1 || poolSize > 1000) {
            throw new IllegalArgumentException("option poolSize must be from 1 to 1000, got " + poolSize);
        }
        return new PostgresSettings(url, option.apply("user").orElse(null), option.apply("password").orElse(null),
                // Plain identifiers, so that names never need escaping and the derived names stay under 63 bytes.
                SqlNames.plainIdentifier("schema", option.apply("schema").orElse("public"), 63),
                SqlNames.plainIdentifier("table", option.apply("table").orElse("locking_locks"), 40), poolSize,
                duration(option, "connectTimeout"), duration(option, "timeout"),
                !option.apply("createTable").orElse("true").trim().toLowerCase(Locale.ROOT).equals("false"),
                dataSource ? "PostgreSQL through the application's DataSource" : "PostgreSQL at " + SqlNames.describeUrl(url));
    }

    private static Duration duration(Function<String, Optional<String>> option, String name) {
        return option.apply(name).map(v -> OptionValues.duration(name, v)).orElse(Duration.ofSeconds(5));
    }

    /** Without the password and the URL's parameters. */
    @Override
    public String toString() {
        return "PostgresSettings[" + description + ", schema=" + schema + ", table=" + table + "]";
    }
}
