package dev.locking.redis;

import dev.locking.spi.OptionValues;
import dev.locking.spi.ProviderConfig;
import dev.locking.spi.ProviderOption;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.redisson.config.BaseConfig;
import org.redisson.config.BaseMasterSlaveServersConfig;
import org.redisson.config.ClusterServersConfig;
import org.redisson.config.Config;
import org.redisson.config.ConstantDelay;
import org.redisson.config.DelayStrategy;
import org.redisson.config.ReadMode;
import org.redisson.config.SentinelServersConfig;
import org.redisson.config.SingleServerConfig;

/**
 * The options of one {@code lp_redis} instance, parsed and checked when the provider is created (nothing
 * connects here), and the Redisson {@link Config} they give.
 *
 * <p>No message of this class repeats the value of {@code address}, {@code nodes}, {@code password} or
 * {@code sslTruststorePassword}: an address may carry a password.
 *
 * <p>Concurrency: not changed after construction and shared by the provider's threads; the Redisson
 * {@link Config} is copied before a client is made from it, so no client changes it.
 */
final class RedisSettings {
    static final String DEFAULT_ADDRESS = "redis://127.0.0.1:6379";
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(3);
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);
    static final int DEFAULT_RETRY_ATTEMPTS = 1;
    /** Pause between Redisson's attempts at one command. */
    static final Duration RETRY_DELAY = Duration.ofMillis(500);
    /** Fallback bound on one call when a foreign Redisson config has no readable timeouts. */
    static final Duration FALLBACK_CALL_BOUND = Duration.ofSeconds(30);

    /**
     * Every option this provider reads, in the spelling the documentation uses, with its value's format; the
     * core warns about any other option and checks these formats before the factory runs.
     */
    static final List<ProviderOption> OPTIONS = List.of(ProviderOption.string("address"),
            ProviderOption.string("username"), ProviderOption.string("password"), ProviderOption.integer("database"),
            ProviderOption.string("mode"), ProviderOption.string("nodes"), ProviderOption.string("masterName"),
            ProviderOption.string("keyPrefix"), ProviderOption.duration("connectTimeout"),
            ProviderOption.duration("timeout"), ProviderOption.integer("retryAttempts"),
            ProviderOption.string("sslTruststore"), ProviderOption.string("sslTruststorePassword"),
            ProviderOption.string("config"));
    private static final List<String> CONNECTION_OPTIONS = List.of("address", "username", "password", "database",
            "mode", "nodes", "masterName", "connectTimeout", "timeout", "retryAttempts", "sslTruststore",
            "sslTruststorePassword");

    final KeyLayout layout;
    final Config config;
    final boolean cluster;
    /** Mode, node count and TLS: what logs may say about the connection (no host, no URL). */
    final String description;
    final Duration callBound;

    private RedisSettings(KeyLayout layout, Config config, String description) {
        this.layout = layout;
        this.config = config;
        this.cluster = config.isClusterConfig();
        this.description = description;
        this.callBound = callBound(config);
    }

    /** Settings for a Redisson config that someone else made (a YAML file or an application's client). */
    static RedisSettings forConfig(KeyLayout layout, Config config, String source) {
        String mode = config.isClusterConfig() ? "cluster" : config.isSentinelConfig() ? "sentinel"
                : config.isSingleConfig() ? "single" : "other";
        return new RedisSettings(layout, config, "mode " + mode + ", " + source);
    }

    static RedisSettings parse(ProviderConfig providerConfig) {
        Options options = new Options(providerConfig);
        KeyLayout layout = new KeyLayout(options.get("keyPrefix").orElse(KeyLayout.DEFAULT_PREFIX));

        Optional<String> yaml = options.get("config");
        if (yaml.isPresent()) {
            List<String> conflicting = new ArrayList<>();
            for (String name : CONNECTION_OPTIONS) {
                if (options.get(name).isPresent()) {
                    conflicting.add(name);
                }
            }
            if (!conflicting.isEmpty()) {
                throw new IllegalArgumentException("option config (a Redisson YAML file, used as it is) cannot be"
                        + " combined with " + String.join(", ", conflicting));
            }
            return forConfig(layout, readYaml(yaml.get()), "Redisson YAML config");
        }

        Config config = new Config();
        // The provider stores no Redisson objects, so Redisson's reference check, done reflectively for
        // every script argument, is pure cost (it was the largest part of an acquire's client time).
        config.setReferenceEnabled(false);
        config.setThreads(2);
        config.setNettyThreads(4);
        Endpoint endpoint = Endpoint.parse("address", options.get("address").orElse(DEFAULT_ADDRESS));
        Optional<String> username = options.get("username").or(() -> Optional.ofNullable(endpoint.username));
        Optional<String> password = options.get("password").or(() -> Optional.ofNullable(endpoint.password));
        username.ifPresent(config::setUsername);
        password.ifPresent(config::setPassword);
        Optional<String> databaseOption = options.get("database");
        int database = databaseOption.isPresent() ? parseInt("database", databaseOption.get(), 0)
                : endpoint.database != null ? endpoint.database : 0;
        Duration connectTimeout = options.duration("connectTimeout").orElse(DEFAULT_CONNECT_TIMEOUT);
        Duration timeout = options.duration("timeout").orElse(DEFAULT_TIMEOUT);
        int retryAttempts = options.get("retryAttempts").map(v -> parseInt("retryAttempts", v, 0))
                .orElse(DEFAULT_RETRY_ATTEMPTS);
        Optional<String> truststore = options.get("sslTruststore");
        if (truststore.isPresent()) {
            Path path = Path.of(truststore.get());
            if (!Files.isReadable(path)) {
                throw new IllegalArgumentException("option sslTruststore: cannot read file " + path);
            }
            try {
                config.setSslTruststore(path.toUri().toURL());
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException("option sslTruststore: not a usable path: " + path, e);
            }
            options.get("sslTruststorePassword").ifPresent(config::setSslTruststorePassword);
        } else if (options.get("sslTruststorePassword").isPresent()) {
            throw new IllegalArgumentException("option sslTruststorePassword is set but sslTruststore is not");
        }

        String mode = options.get("mode").orElse("single").trim().toLowerCase(Locale.ROOT);
        boolean tls = endpoint.tls;
        int nodeCount;
        switch (mode) {
            case "single" -> {
                if (options.get("nodes").isPresent() || options.get("masterName").isPresent()) {
                    throw new IllegalArgumentException("options nodes and masterName need mode sentinel or cluster");
                }
                SingleServerConfig server = config.useSingleServer()
                        .setAddress(endpoint.redissonAddress())
                        .setDatabase(database)
                        .setConnectionPoolSize(16)
                        .setConnectionMinimumIdleSize(1)
                        .setSubscriptionConnectionPoolSize(4)
                        .setSubscriptionConnectionMinimumIdleSize(1);
                bound(server, connectTimeout, timeout, retryAttempts);
                nodeCount = 1;
            }
            case "sentinel" -> {
                String masterName = options.get("masterName").orElseThrow(() ->
                        new IllegalArgumentException("option masterName is required with mode sentinel"));
                List<Endpoint> sentinels = options.get("nodes")
                        .map(v -> Endpoint.parseList("nodes", v))
                        .orElseGet(() -> List.of(endpoint));
                SentinelServersConfig servers = config.useSentinelServers()
                        .setMasterName(masterName)
                        .setDatabase(database)
                        .setCheckSentinelsList(false);
                for (Endpoint sentinel : sentinels) {
                    servers.addSentinelAddress(sentinel.redissonAddress());
                    tls |= sentinel.tls;
                }
                pools(servers);
                bound(servers, connectTimeout, timeout, retryAttempts);
                nodeCount = sentinels.size();
            }
            case "cluster" -> {
                if (database != 0) {
                    throw new IllegalArgumentException("option database must be 0 with mode cluster: " + database);
                }
                if (options.get("masterName").isPresent()) {
                    throw new IllegalArgumentException("option masterName needs mode sentinel");
                }
                List<Endpoint> nodes = options.get("nodes")
                        .map(v -> Endpoint.parseList("nodes", v))
                        .orElseGet(() -> List.of(endpoint));
                ClusterServersConfig servers = config.useClusterServers();
                for (Endpoint node : nodes) {
                    servers.addNodeAddress(node.redissonAddress());
                    tls |= node.tls;
                }
                pools(servers);
                bound(servers, connectTimeout, timeout, retryAttempts);
                nodeCount = nodes.size();
            }
            default -> throw new IllegalArgumentException(
                    "option mode must be single, sentinel or cluster: " + options.get("mode").orElse(""));
        }
        String description = "mode " + mode + ", " + nodeCount + (nodeCount == 1 ? " node" : " nodes")
                + (tls ? ", TLS" : "") + (password.isPresent() ? ", with password" : "");
        return new RedisSettings(layout, config, description);
    }

    private static void pools(BaseMasterSlaveServersConfig<?> servers) {
        servers.setReadMode(ReadMode.MASTER)
                .setMasterConnectionPoolSize(16)
                .setMasterConnectionMinimumIdleSize(1)
                .setSlaveConnectionPoolSize(4)
                .setSlaveConnectionMinimumIdleSize(1)
                .setSubscriptionConnectionPoolSize(4)
                .setSubscriptionConnectionMinimumIdleSize(1);
    }

    private static void bound(BaseConfig<?> server, Duration connectTimeout, Duration timeout, int retryAttempts) {
        server.setConnectTimeout(toIntMillis(connectTimeout))
                .setTimeout(toIntMillis(timeout))
                .setSubscriptionTimeout(toIntMillis(timeout))
                .setRetryAttempts(retryAttempts)
                .setRetryDelay(new ConstantDelay(RETRY_DELAY));
    }

    /**
     * The longest one call may take before the provider gives up waiting for Redisson: connecting, every
     * attempt's response timeout and the pauses between attempts, plus a second.
     */
    static Duration callBound(Config config) {
        @Nullable BaseConfig<?> server = config.isClusterConfig() ? config.useClusterServers()
                : config.isSentinelConfig() ? config.useSentinelServers()
                : config.isSingleConfig() ? config.useSingleServer() : null;
        if (server == null) {
            return FALLBACK_CALL_BOUND;
        }
        int attempts = Math.max(0, server.getRetryAttempts());
        long millis = (long) server.getConnectTimeout() + (long) server.getTimeout() * (attempts + 1) + 1000;
        DelayStrategy delay = server.getRetryDelay();
        for (int attempt = 1; attempt <= attempts; attempt++) {
            millis += 2 * delay.calcDelay(attempt).toMillis();
        }
        return Duration.ofMillis(millis);
    }

    private static Config readYaml(String file) {
        File path = new File(file);
        if (!path.isFile() || !path.canRead()) {
            throw new IllegalArgumentException("option config: cannot read Redisson YAML file " + path);
        }
        try {
            return Config.fromYAML(path);
        } catch (IOException | RuntimeException e) {
            // The parser's message may quote the file's content, passwords included: keep it out.
            throw new IllegalArgumentException("option config: " + path + " is not a valid Redisson YAML config ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    private static int toIntMillis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
    }

    static int parseInt(String option, String value, int min) {
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed < min) {
                throw new IllegalArgumentException("option " + option + " must be at least " + min + ": " + value);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + option + " must be a whole number: " + value, e);
        }
    }

    /** The options of one instance; blank values count as not set. */
    private static final class Options {
        private final ProviderConfig config;

        Options(ProviderConfig config) {
            this.config = config;
        }

        Optional<String> get(String name) {
            return config.option(name).filter(v -> !v.isBlank());
        }

        Optional<Duration> duration(String name) {
            return get(name).map(v -> OptionValues.duration(name, v));
        }
    }

    /**
     * One parsed address, {@code redis[s]://[[user]:password@]host[:port][/database]}. Credentials are taken
     * out, so the address Redisson sees (and may print) holds none.
     */
    static final class Endpoint {
        final boolean tls;
        final String hostAndPort;
        final @Nullable String username;
        final @Nullable String password;
        final @Nullable Integer database;

        private Endpoint(boolean tls, String hostAndPort, @Nullable String username, @Nullable String password,
                @Nullable Integer database) {
            this.tls = tls;
            this.hostAndPort = hostAndPort;
            this.username = username;
            this.password = password;
            this.database = database;
        }

        String redissonAddress() {
            return (tls ? "rediss://" : "redis://") + hostAndPort;
        }

        static List<Endpoint> parseList(String option, String value) {
            List<Endpoint> endpoints = new ArrayList<>();
            for (String part : value.split(",", -1)) {
                if (!part.isBlank()) {
                    String address = part.trim();
                    endpoints.add(parse(option, address.contains("://") ? address : "redis://" + address));
                }
            }
            if (endpoints.isEmpty()) {
                throw new IllegalArgumentException("option " + option + " must list at least one address");
            }
            return endpoints;
        }

        static Endpoint parse(String option, String value) {
            String v = value.trim();
            boolean tls;
            if (v.regionMatches(true, 0, "redis://", 0, 8)) {
                tls = false;
                v = v.substring(8);
            } else if (v.regionMatches(true, 0, "rediss://", 0, 9)) {
                tls = true;
                v = v.substring(9);
            } else {
                throw new IllegalArgumentException("option " + option
                        + " must be an address such as redis://host:6379 or rediss://host:6379");
            }
            String username = null;
            String password = null;
            int at = v.lastIndexOf('@');
            if (at >= 0) {
                String userInfo = v.substring(0, at);
                v = v.substring(at + 1);
                int colon = userInfo.indexOf(':');
                if (colon >= 0) {
                    username = decode(userInfo.substring(0, colon));
                    password = decode(userInfo.substring(colon + 1));
                } else {
                    password = decode(userInfo);
                }
                if (username != null && username.isEmpty()) {
                    username = null;
                }
            }
            Integer database = null;
            int slash = v.indexOf('/');
            if (slash >= 0) {
                String db = v.substring(slash + 1);
                v = v.substring(0, slash);
                if (!db.isEmpty()) {
                    database = parseInt(option + " (database part)", db, 0);
                }
            }
            String hostAndPort = hostAndPort(option, v);
            return new Endpoint(tls, hostAndPort, username, password, database);
        }

        private static String hostAndPort(String option, String v) {
            String host;
            String port;
            if (v.startsWith("[")) {
                int close = v.indexOf(']');
                if (close < 0) {
                    throw new IllegalArgumentException("option " + option + " has an unclosed IPv6 address");
                }
                host = v.substring(0, close + 1);
                String rest = v.substring(close + 1);
                port = rest.startsWith(":") ? rest.substring(1) : "";
            } else {
                int colon = v.lastIndexOf(':');
                host = colon >= 0 ? v.substring(0, colon) : v;
                port = colon >= 0 ? v.substring(colon + 1) : "";
            }
            if (host.isEmpty() || host.chars().anyMatch(c -> Character.isWhitespace(c) || c == '/' || c == '@')) {
                throw new IllegalArgumentException("option " + option + " must name a host, such as redis://host:6379");
            }
            int portNumber = port.isEmpty() ? 6379 : parsePort(option, port);
            return host + ":" + portNumber;
        }

        private static int parsePort(String option, String port) {
            try {
                int p = Integer.parseInt(port);
                if (p < 1 || p > 65535) {
                    throw new IllegalArgumentException("option " + option + " has a port out of range: " + p);
                }
                return p;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("option " + option + " has a port that is not a number", e);
            }
        }

        /** Decodes {@code %XX} escapes (and only those: a {@code +} stays a plus). */
        private static String decode(String s) {
            if (s.indexOf('%') < 0) {
                return s;
            }
            byte[] raw = s.getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == '%' && i + 2 < raw.length && hex(raw[i + 1]) >= 0 && hex(raw[i + 2]) >= 0) {
                    out.write(hex(raw[i + 1]) * 16 + hex(raw[i + 2]));
                    i += 2;
                } else {
                    out.write(raw[i]);
                }
            }
            return out.toString(StandardCharsets.UTF_8);
        }

        private static int hex(byte b) {
            return Character.digit((char) b, 16);
        }
    }
}
