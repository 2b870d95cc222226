package dev.locking.zookeeper;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryNTimes;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The ZooKeeper server the tests run against: the one named by {@code ZOOKEEPER_CONNECT} when set,
 * otherwise Curator's in-JVM {@link TestingServer} on a free port, started once per test JVM and stopped
 * when the JVM's tests end. (Testcontainers is not tried: there is no Docker here, and an in-JVM server
 * is always available, so no test is ever skipped for want of a backend.)
 *
 * <p>The in-JVM server runs with a 500 ms tick, so sessions may be as short as 500 ms and at most 10 s.
 */
final class ZookeeperServer implements BeforeAllCallback {
    static final int TICK_MILLIS = 500;
    private static final ExtensionContext.Namespace STORE = ExtensionContext.Namespace.create(ZookeeperServer.class);

    private volatile @Nullable String connectString;

    private ZookeeperServer() {}

    static ZookeeperServer fromEnvOrStart() {
        return new ZookeeperServer();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        String env = System.getenv("ZOOKEEPER_CONNECT");
        if (env != null && !env.isBlank()) {
            connectString = env.trim();
            return;
        }
        Shared shared = context.getRoot().getStore(STORE).computeIfAbsent(Shared.class, k -> new Shared(), Shared.class);
        connectString = shared.server.getConnectString();
    }

    /** Whether the server is the in-JVM one (whose tick and session limits the tests know). */
    static boolean inJvm() {
        String env = System.getenv("ZOOKEEPER_CONNECT");
        return env == null || env.isBlank();
    }

    String connectString() {
        String c = connectString;
        if (c == null) {
            throw new IllegalStateException("the ZookeeperServer extension has not run yet");
        }
        return c;
    }

    /** A provider with its own client, in the given namespace, with a 10 s session unless told. */
    LockingProvider provider(String id, String namespace) {
        return provider(id, namespace, Map.of());
    }

    LockingProvider provider(String id, String namespace, Map<String, String> options) {
        Map<String, String> all = new HashMap<>(options);
        all.putIfAbsent("connectString", connectString());
        all.putIfAbsent("namespace", namespace);
        all.putIfAbsent("sessionTimeout", "10s");
        return new ZookeeperProviderFactory().create(new TestConfig(id, all));
    }

    /** A plain Curator client, started and connected, for looking at nodes behind the provider's back. */
    CuratorFramework newClient() throws InterruptedException {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(connectString())
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new RetryNTimes(3, 200))
                .build();
        client.start();
        if (!client.blockUntilConnected(20, TimeUnit.SECONDS)) {
            client.close();
            throw new IllegalStateException("no connection to " + connectString());
        }
        return client;
    }

    static Duration tick() {
        return Duration.ofMillis(TICK_MILLIS);
    }

    /** The in-JVM server, shared by every test class of the JVM. */
    private static final class Shared implements AutoCloseable {
        final TestingServer server;

        Shared() {
            try {
                server = new TestingServer(new InstanceSpec(null, -1, -1, -1, true, -1, TICK_MILLIS, -1), true);
            } catch (Exception e) {
                throw new IllegalStateException("could not start an in-JVM ZooKeeper server", e);
            }
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
        }
    }
}
