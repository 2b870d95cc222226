package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mode=sentinel}: the provider finds the master through a Sentinel. */
class RedisSentinelTest {
    @TempDir
    static Path dir;
    private static RedisProcess master;
    private static RedisProcess sentinel;

    @BeforeAll
    static void start() throws IOException {
        master = RedisProcess.start();
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(conf, "sentinel monitor main 127.0.0.1 " + master.port() + " 1\n");
        sentinel = RedisProcess.start(conf.toString(), "--sentinel");
    }

    @AfterAll
    static void stop() {
        if (sentinel != null) {
            sentinel.close();
        }
        if (master != null) {
            master.close();
        }
    }

    @Test
    void locksGoToTheMasterTheSentinelNames() {
        LockingProvider provider = new RedisProviderFactory().create(TestConfig.of("lp_redis", "mode", "sentinel",
                "nodes", "127.0.0.1:" + sentinel.port(), "masterName", "main", "keyPrefix", "sentinel:"));
        try {
            assertThat(provider.tryAcquire(List.of("k"), "me", Duration.ofSeconds(30)))
                    .isInstanceOf(AcquireResult.Acquired.class);
            assertThat(provider.inspect("k")).get().extracting(LockInfo::ownerId).isEqualTo("me");
            try (RespClient admin = master.admin()) {
                assertThat(admin.call("GET", "sentinel:{k}")).isEqualTo("me");
            }
            assertThat(provider.release(List.of("k"), "me")).isTrue();
        } finally {
            provider.close();
        }
    }
}
