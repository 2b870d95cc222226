package dev.locking.redis;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The Redis server that most tests share: the one named by {@code REDIS_URL} when that is set (Docker is
 * not used here, so the Testcontainers step is skipped), else one {@code redis-server} started on a free
 * port for the whole test run and stopped at its end. Tests that stop, restart or reconfigure a server
 * start their own {@link RedisProcess} instead.
 *
 * <pre>{@code
 * @RegisterExtension static final RedisServer REDIS = RedisServer.shared();
 * }</pre>
 *
 * <p>Public, and in this module's test jar, so that other modules' tests (the Spring Integration adapter's) use the
 * same server.
 */
public final class RedisServer implements BeforeAllCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RedisServer.class);

    private volatile @Nullable Shared shared;

    /**
     * The extension; every test class of a run shares one server.
     *
     * @return a new extension instance
     */
    public static RedisServer shared() {
        return new RedisServer();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        shared = context.getRoot().getStore(NAMESPACE).computeIfAbsent("single", k -> Shared.resolve(), Shared.class);
    }

    private Shared get() {
        Shared s = shared;
        if (s == null) {
            throw new IllegalStateException("RedisServer is used before its beforeAll ran");
        }
        return s;
    }

    /** The server's address, without credentials. */
    String address() {
        return get().endpoint.redissonAddress();
    }

    /** A process this run started, or null when the server came from {@code REDIS_URL}. */
    @Nullable RedisProcess process() {
        return get().process;
    }

    RespClient admin() {
        RedisSettings.Endpoint e = get().endpoint;
        int colon = e.hostAndPort.lastIndexOf(':');
        return RespClient.connect(e.hostAndPort.substring(0, colon),
                Integer.parseInt(e.hostAndPort.substring(colon + 1)), null, e.username, e.password);
    }

    /**
     * Deletes every key that starts with the prefix (locks, tokens, indexes), so that a test leaves
     * nothing behind on a server it shares ({@code REDIS_URL}).
     */
    void deleteKeysStartingWith(String prefix) {
        StringBuilder pattern = new StringBuilder();
        for (int i = 0; i < prefix.length(); i++) {
            char c = prefix.charAt(i);
            if ("*?[]\\".indexOf(c) >= 0) {
                pattern.append('\\');
            }
            pattern.append(c);
        }
        pattern.append('*');
        try (RespClient admin = admin()) {
            String cursor = "0";
            do {
                List<?> reply = (List<?>) admin.call("SCAN", cursor, "MATCH", pattern.toString(), "COUNT", "1000");
                cursor = String.valueOf(reply.get(0));
                for (Object key : (List<?>) reply.get(1)) {
                    admin.call("UNLINK", String.valueOf(key));
                }
            } while (!cursor.equals("0"));
        }
    }

    /** Options that reach this server, plus the given ones. */
    String[] options(String... more) {
        RedisSettings.Endpoint e = get().endpoint;
        List<String> options = new ArrayList<>(List.of("address", e.redissonAddress()));
        if (e.username != null) {
            options.addAll(List.of("username", e.username));
        }
        if (e.password != null) {
            options.addAll(List.of("password", e.password));
        }
        if (e.database != null) {
            options.addAll(List.of("database", Integer.toString(e.database)));
        }
        options.addAll(List.of(more));
        return options.toArray(new String[0]);
    }

    /**
     * A new provider on this server, with its own key prefix unless the options name one.
     *
     * @param id          the provider's id
     * @param moreOptions more options, as name, value, name, value...
     * @return the provider; the caller closes it
     */
    public LockingProvider provider(String id, String... moreOptions) {
        return new RedisProviderFactory().create(TestConfig.of(id, options(moreOptions)));
    }

    /** What the test run shares; closed (the process stopped) when the run ends. */
    static final class Shared implements AutoCloseable {
        final RedisSettings.Endpoint endpoint;
        final @Nullable RedisProcess process;

        private Shared(RedisSettings.Endpoint endpoint, @Nullable RedisProcess process) {
            this.endpoint = endpoint;
            this.process = process;
        }

        static Shared resolve() {
            String url = System.getenv("REDIS_URL");
            if (url != null && !url.isBlank()) {
                return new Shared(RedisSettings.Endpoint.parse("REDIS_URL", url), null);
            }
            RedisProcess process = RedisProcess.start();
            return new Shared(RedisSettings.Endpoint.parse("address", process.address()), process);
        }

        @Override
        public void close() {
            if (process != null) {
                process.close();
            }
        }
    }
}
