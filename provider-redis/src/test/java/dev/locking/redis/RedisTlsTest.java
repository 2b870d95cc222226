package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lp_redis} against a TLS-only {@code redis-server} with a self-signed certificate. */
class RedisTlsTest {
    @TempDir
    static Path dir;
    private static TlsMaterial tls;
    private static RedisProcess server;

    private final List<LockingProvider> providers = new ArrayList<>();

    @BeforeAll
    static void startServer() {
        RedisProcess.requireBinary();
        tls = TlsMaterial.create(dir);
        server = RedisProcess.startWith(tls.clientContext(), null, tls.serverArgs());
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void closeProviders() {
        providers.forEach(LockingProvider::close);
    }

    private LockingProvider add(LockingProvider p) {
        providers.add(p);
        return p;
    }

    @Test
    void withTheTrustStore_everythingWorksOverTls() throws Exception {
        String[] options = {"address", server.address(), "sslTruststore", tls.truststore.toString(),
            "sslTruststorePassword", TlsMaterial.PASSWORD, "keyPrefix", "tls:"};
        LockingProvider holder = add(new RedisProviderFactory().create(TestConfig.of("lp_redis", options)));
        LockingProvider waiter = add(new RedisLockingProvider("lp_redis",
                RedisSettings.parse(TestConfig.of("lp_redis", options)), null, Duration.ofMinutes(1)));

        assertThat(server.address()).startsWith("rediss://");
        assertThat(holder.tryAcquire(List.of("k"), "me", null)).isInstanceOf(AcquireResult.Acquired.class);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> waiting = pool.submit(() -> {
                waiter.awaitRelease(List.of("k"), Duration.ofMinutes(1));
                return null;
            });
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> ((RedisLockingProvider) waiter).sleepingWaiters() == 1);
            assertThat(holder.release(List.of("k"), "me")).isTrue();
            waiting.get(30, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRedissonYamlConfig_isUsedAsItIs() throws Exception {
        Path yaml = dir.resolve("redisson.yaml");
        Files.writeString(yaml, String.join("\n",
                "singleServerConfig:",
                "  address: \"" + server.address() + "\"",
                "  timeout: 2000",
                "  connectTimeout: 2000",
                "  retryAttempts: 1",
                "  connectionMinimumIdleSize: 1",
                "sslTruststore: \"" + tls.truststore.toUri() + "\"",
                "sslTruststorePassword: \"" + TlsMaterial.PASSWORD + "\"",
                ""));
        LockingProvider p = add(new RedisProviderFactory().create(TestConfig.of("lp_redis",
                "config", yaml.toString(), "keyPrefix", "yaml:")));

        assertThat(p.tryAcquire(List.of("k"), null, Duration.ofSeconds(5))).isInstanceOf(AcquireResult.Acquired.class);
        assertThat(p.inspect("k")).get().extracting(LockInfo::ownerId).isNull();
        assertThat(p.release(List.of("k"), null)).isTrue();
    }

    @Test
    void withoutTrustOrWithoutTls_itFailsWithinBoundedTime() {
        LockingProvider untrusted = add(new RedisProviderFactory().create(TestConfig.of("lp_redis",
                "address", server.address(), "connectTimeout", "1s", "timeout", "1s")));
        LockingProvider plain = add(new RedisProviderFactory().create(TestConfig.of("lp_redis",
                "address", "redis://127.0.0.1:" + server.port(), "connectTimeout", "1s", "timeout", "1s")));

        for (LockingProvider p : List.of(untrusted, plain)) {
            long start = System.nanoTime();
            assertThatThrownBy(() -> p.tryAcquire(List.of("k"), null, null))
                    .isInstanceOf(ProviderUnavailableException.class);
            assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(15);
        }
    }
}
