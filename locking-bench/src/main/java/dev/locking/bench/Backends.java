package dev.locking.bench;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.jspecify.annotations.Nullable;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * The backends of one bench invocation, each in a process of its own, and one client of each in this JVM
 * (shared by our provider and the peers, so both go through the same connection code): a
 * {@code redis-server} on a free port with a Redisson client, a ZooKeeper server in a child JVM with a
 * Curator client, a Hazelcast member in a child JVM with a Hazelcast client, a PostgreSQL server
 * ({@link PostgresServer}: {@code POSTGRES_URL}'s or a throwaway one) with one HikariCP pool for the peers
 * ({@code lp_postgres} gets the server's login and keeps its own pool). Closing stops clients, then processes.
 */
final class Backends implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** Options for the child JVMs: small heaps, and the opens Hazelcast asks for. */
    private static final List<String> CHILD_JVM = List.of("-Xms128m", "-Xmx512m", "-XX:+UseParallelGC",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dhazelcast.logging.type=slf4j",
            "-Dzookeeper.admin.enableServer=false",
            "--add-modules", "java.se", "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens", "java.management/sun.management=ALL-UNNAMED",
            "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED");

    /** Extra options for the child JVMs, for profiling them: {@code -Dbench.childJvmOptions="-XX:..."}. */
    static final String CHILD_OPTIONS_PROPERTY = "bench.childJvmOptions";

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final Path dir;
    @Nullable ChildProcess redisServer;
    @Nullable RedissonClient redisson;
    @Nullable ChildProcess zookeeperServer;
    @Nullable CuratorFramework curator;
    @Nullable ChildProcess hazelcastMember;
    @Nullable HazelcastInstance hazelcast;
    @Nullable PostgresServer postgresServer;
    /** The PostgreSQL server's login, set when postgres was started or connected to. */
    PostgresServer.@Nullable Login postgresLogin;
    /** The pool the PostgreSQL peers share. */
    @Nullable HikariDataSource postgres;
    /** The pool size of the peers, and of {@code lp_postgres}: enough for W2/W3's 8 threads, W7's 2 per JVM. */
    int postgresPoolSize = 10;
    final String hazelcastCluster = "locking-bench-" + UUID.randomUUID().toString().substring(0, 8);

    private Backends(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts the backends the set names, in parallel, and connects a client to each.
     *
     * @throws IllegalStateException if one does not start; the ones started are stopped again
     */
    static Backends start(boolean redis, boolean zookeeper, boolean hazelcast, boolean postgres) {
        Path dir;
        try {
            dir = Files.createTempDirectory("locking-bench-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Backends b = new Backends(dir);
        try {
            CompletableFuture<@Nullable ChildProcess> r = redis
                    ? CompletableFuture.supplyAsync(b::startRedis) : CompletableFuture.completedFuture(null);
            CompletableFuture<@Nullable ChildProcess> z = zookeeper
                    ? CompletableFuture.supplyAsync(() -> ChildProcess.start("zookeeper",
                            ChildProcess.javaCommand(childJvm("zookeeper"), ZookeeperServerMain.class), dir.resolve("zookeeper.log"),
                            START_TIMEOUT, null, null))
                    : CompletableFuture.completedFuture(null);
            CompletableFuture<@Nullable ChildProcess> h = hazelcast
                    ? CompletableFuture.supplyAsync(() -> ChildProcess.start("hazelcast",
                            ChildProcess.javaCommand(childJvm("hazelcast"), HazelcastMemberMain.class,
                                    b.hazelcastCluster),
                            dir.resolve("hazelcast.log"), START_TIMEOUT, null, null))
                    : CompletableFuture.completedFuture(null);
            CompletableFuture<@Nullable PostgresServer> p = postgres
                    ? CompletableFuture.supplyAsync(PostgresServer::start) : CompletableFuture.completedFuture(null);
            // Every start is waited for before a failure is thrown, so what did start is stopped again.
            CompletableFuture.allOf(r, z, h, p).exceptionally(e -> null).join();
            b.postgresServer = p.isCompletedExceptionally() ? null : p.join();
            if (b.postgresServer != null) {
                b.toClose.add(b.postgresServer);
            }
            b.redisServer = r.isCompletedExceptionally() ? null : b.keep(r.join());
            b.zookeeperServer = z.isCompletedExceptionally() ? null : b.keep(z.join());
            b.hazelcastMember = h.isCompletedExceptionally() ? null : b.keep(h.join());
            for (CompletableFuture<?> f : List.of(r, z, h, p)) {
                try {
                    f.join();
                } catch (java.util.concurrent.CompletionException e) {
                    // the server's own message ("set POSTGRES_URL or install ..."), not the future's wrapper
                    throw e.getCause() instanceof RuntimeException cause ? cause : e;
                }
            }
            b.connect();
            return b;
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /** The child JVM's options; {@code {name}} in the extra options becomes the child's name. */
    static List<String> childJvm(String name) {
        List<String> options = new ArrayList<>(CHILD_JVM);
        String extra = System.getProperty(CHILD_OPTIONS_PROPERTY, "").trim();
        if (!extra.isEmpty()) {
            for (String option : extra.split("\\s+", -1)) {
                options.add(option.replace("{name}", name));
            }
        }
        return options;
    }

    private @Nullable ChildProcess keep(@Nullable ChildProcess process) {
        if (process != null) {
            toClose.add(process);
        }
        return process;
    }

    private ChildProcess startRedis() {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port;
            try {
                port = HazelcastMemberMain.freePort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            List<String> command = List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
                    "--dir", dir.toString());
            try {
                return ChildProcess.start("redis-server", command, dir.resolve("redis.log"), START_TIMEOUT,
                        "Ready to accept connections", "127.0.0.1:" + port);
            } catch (IllegalStateException e) {
                last = e; // most likely someone took the port in between: try another
            }
        }
        throw last;
    }

    private void connect() {
        ChildProcess r = redisServer;
        if (r != null) {
            connectRedis(r.address());
        }
        ChildProcess z = zookeeperServer;
        if (z != null) {
            connectZookeeper(z.address());
        }
        ChildProcess h = hazelcastMember;
        if (h != null) {
            connectHazelcast(h.address(), hazelcastCluster);
        }
        PostgresServer p = postgresServer;
        if (p != null) {
            connectPostgres(p.login());
            try {
                PostgresPeers.createTables(java.util.Objects.requireNonNull(postgres));
            } catch (SQLException e) {
                throw new IllegalStateException("could not create the PostgreSQL peers' tables at " + p.login(), e);
            }
        }
    }

    /**
     * Clients only, to servers another JVM started (the workers of a cross-process workload): one client of
     * {@code backend} ({@code redis}, {@code zookeeper}, {@code hazelcast} or {@code postgres}, whose address is
     * its JDBC URL) at {@code address}, built
     * exactly as the bench JVM builds its own. Closing stops the client.
     */
    static Backends clients(String backend, String address, String hazelcastCluster) {
        Backends b = new Backends(Path.of(System.getProperty("java.io.tmpdir")));
        try {
            switch (backend) {
                case "redis" -> b.connectRedis(address);
                case "zookeeper" -> b.connectZookeeper(address);
                case "hazelcast" -> b.connectHazelcast(address, hazelcastCluster);
                case "postgres" -> {
                    // A worker of W7/W8: 2 threads at most, so a small pool (the server has 5 such JVMs' pools).
                    b.postgresPoolSize = 4;
                    b.connectPostgres(PostgresServer.loginFor(address));
                }
                default -> throw new IllegalArgumentException("no client for backend " + backend);
            }
            return b;
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
    }

    /** The address a client of {@code backend} connects to. */
    String address(String backend) {
        if (backend.equals("postgres")) {
            PostgresServer s = postgresServer;
            if (s == null) {
                throw new IllegalStateException("postgres was not started");
            }
            return s.login().url();
        }
        ChildProcess p = switch (backend) {
            case "redis" -> redisServer;
            case "zookeeper" -> zookeeperServer;
            case "hazelcast" -> hazelcastMember;
            default -> throw new IllegalArgumentException("no server for backend " + backend);
        };
        if (p == null) {
            throw new IllegalStateException(backend + " was not started");
        }
        return p.address();
    }

    private void connectRedis(String address) {
        Config config = new Config();
        config.useSingleServer().setAddress("redis://" + address);
        // Redisson's default (true) unless told, for experiments: -Dbench.redis.referenceEnabled=false
        config.setReferenceEnabled(Boolean.parseBoolean(System.getProperty("bench.redis.referenceEnabled", "true")));
        RedissonClient client = Redisson.create(config);
        redisson = client;
        toClose.add(0, () -> client.shutdown(0, 2, TimeUnit.SECONDS));
    }

    private void connectZookeeper(String address) {
        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(address)
                .sessionTimeoutMs(15_000)
                .connectionTimeoutMs(5_000)
                .retryPolicy(new ExponentialBackoffRetry(100, 3))
                .build();
        client.start();
        toClose.add(0, client);
        try {
            if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("could not connect to ZooKeeper at " + address);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while connecting to ZooKeeper", e);
        }
        curator = client;
    }

    private void connectHazelcast(String address, String cluster) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(cluster);
        config.getNetworkConfig().addAddress(address);
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(30_000);
        HazelcastInstance client = HazelcastClient.newHazelcastClient(config);
        hazelcast = client;
        toClose.add(0, client::shutdown);
    }

    private void connectPostgres(PostgresServer.Login login) {
        HikariDataSource pool = PostgresServer.pool(login, postgresPoolSize, "bench-postgres-peers");
        postgresLogin = login;
        postgres = pool;
        toClose.add(0, pool);
    }

    /** The directory with the servers' logs and data. */
    Path dir() {
        return dir;
    }

    @Override
    public void close() {
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                // stopping is best effort; the processes are killed below in any case
            }
        }
        toClose.clear();
    }

    /** {@code redis-server --version}'s version, or "?". */
    static String redisServerVersion() {
        try {
            Process p = new ProcessBuilder("redis-server", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            int at = out.indexOf("v=");
            return at < 0 ? out.trim() : out.substring(at + 2).split("\\s", 2)[0];
        } catch (IOException e) {
            return "?";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "?";
        }
    }

    /**
     * The version of the jar {@code type} comes from, by its manifest ({@code Implementation-Version}, else
     * {@code Bundle-Version}), or "?": for jars without Maven metadata (Spring's) or with a wrong one (HikariCP
     * 7.1.0's says 7.0.2).
     */
    static String manifestVersion(Class<?> type) {
        try {
            var source = type.getProtectionDomain().getCodeSource();
            if (source == null) {
                return "?";
            }
            try (var jar = new java.util.jar.JarFile(Path.of(source.getLocation().toURI()).toFile())) {
                var manifest = jar.getManifest();
                if (manifest == null) {
                    return "?";
                }
                var attributes = manifest.getMainAttributes();
                String v = attributes.getValue("Implementation-Version");
                return v != null ? v : java.util.Objects.requireNonNullElse(attributes.getValue("Bundle-Version"), "?");
            }
        } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
            return "?";
        }
    }

    /** The version of a jar on the classpath, from its Maven metadata, or "?". */
    static String jarVersion(String groupId, String artifactId) {
        String resource = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
        try (InputStream in = Backends.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return "?";
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "?");
        } catch (IOException e) {
            return "?";
        }
    }
}
