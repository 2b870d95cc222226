package dev.locking.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.locking.api.AcquireOptions;
import dev.locking.api.LockingService;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.api.ReleaseAllOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Providers on the application's own client beans, against real backends. */
class ApplicationClientsTest {
    private final ApplicationContextRunner runner = new ApplicationContextRunner().withConfiguration(
            AutoConfigurations.of(LockingAutoConfiguration.class, LockingClientsAutoConfiguration.class));

    @Test
    void lpZookeeper_usesTheApplicationsCuratorFramework() throws Exception {
        try (TestingServer server = new TestingServer(true)) {
            runner.withBean(CuratorFramework.class, () -> started(server), bean -> bean.setDestroyMethodName("close"))
                    .run(context -> {
                        LockingService locking = context.getBean(LockingService.class);
                        CuratorFramework client = context.getBean(CuratorFramework.class);
                        // The provider's own default (127.0.0.1:2181) reaches nothing here: success is the bean's doing.
                        locking.acquire("clients:zk", AcquireOptions.builder().ownerId("alice")
                                .provider("lp_zookeeper").build());
                        assertThat(locking.inspect("clients:zk", "lp_zookeeper")).isPresent();
                        assertThat(client.checkExists().forPath("/locking")).isNotNull();
                        locking.releaseAll(ReleaseAllOptions.builder().ownerId("alice").provider("lp_zookeeper").build());
                    });
        }
    }

    @Test
    void aConnectionOptionOfTheProvider_winsOverTheApplicationsClient() throws Exception {
        int closedPort = freePort();
        try (TestingServer server = new TestingServer(true)) {
            runner.withBean(CuratorFramework.class, () -> started(server), bean -> bean.setDestroyMethodName("close"))
                    .withPropertyValues("locking.providers.zookeeper.connect-string=127.0.0.1:" + closedPort,
                            "locking.providers.zookeeper.connection-timeout=300ms")
                    .run(context -> assertThatThrownBy(() -> context.getBean(LockingService.class).inspect(
                            "clients:zk", "lp_zookeeper")).isInstanceOf(ProviderUnavailableException.class));
        }
    }

    @Test
    void lpRedis_usesTheApplicationsRedissonClient(@TempDir Path dir) throws Exception {
        int port = freePort();
        Process redis;
        try {
            redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", dir.toString())
                    .redirectErrorStream(true).redirectOutput(Files.createFile(dir.resolve("redis.log")).toFile()).start();
        } catch (IOException e) {
            // As the Redis provider's own tests: skipped where redis-server is missing, a failure in CI.
            if ("true".equals(System.getenv("CI"))) {
                throw e;
            }
            Assumptions.abort("redis-server is not on the PATH: " + e.getMessage());
            return;
        }
        try {
            await().atMost(Duration.ofSeconds(20)).until(() -> accepts(port));
            org.redisson.config.Config config = new org.redisson.config.Config();
            // Database 3: the provider's own default connection (database 0 of port 6379) could not put a key there.
            config.useSingleServer().setAddress("redis://127.0.0.1:" + port).setDatabase(3);
            runner.withBean(RedissonClient.class, () -> Redisson.create(config), bean -> bean.setDestroyMethodName("shutdown"))
                    .withPropertyValues("locking.providers.redis.key-prefix=spring:")
                    .run(context -> {
                        LockingService locking = context.getBean(LockingService.class);
                        RedissonClient client = context.getBean(RedissonClient.class);
                        locking.acquire("clients:redis", AcquireOptions.builder().ownerId("alice")
                                .provider("lp_redis").build());
                        assertThat(client.getKeys().count()).as("keys in database 3 of the application's server").isPositive();
                        locking.releaseAll(ReleaseAllOptions.builder().ownerId("alice").provider("lp_redis").build());
                    });
        } finally {
            redis.destroy();
            assertThat(redis.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void lpHazelcast_usesTheApplicationsHazelcastInstance() {
        runner.withBean(HazelcastInstance.class, ApplicationClientsTest::member, bean -> bean.setDestroyMethodName("shutdown"))
                .run(context -> {
                    LockingService locking = context.getBean(LockingService.class);
                    HazelcastInstance member = context.getBean(HazelcastInstance.class);
                    locking.acquire("clients:hz", AcquireOptions.builder().ownerId("alice")
                            .provider("lp_hazelcast").build());
                    assertThat(member.getMap("locking").size()).isEqualTo(1);
                    locking.releaseAll(ReleaseAllOptions.builder().ownerId("alice").provider("lp_hazelcast").build());
                });
    }

    private static CuratorFramework started(TestingServer server) {
        CuratorFramework client = CuratorFrameworkFactory.newClient(server.getConnectString(), new RetryOneTime(100));
        client.start();
        return client;
    }

    private static HazelcastInstance member() {
        Config config = new Config();
        config.setClusterName("spring-clients-test");
        config.getNetworkConfig().setPort(freePort()).setPortAutoIncrement(false);
        config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = config.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(false);
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.partition.count", "31");
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        return Hazelcast.newHazelcastInstance(config);
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
