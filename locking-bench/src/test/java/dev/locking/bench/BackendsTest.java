package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;

/** The servers start in processes of their own, answer through the clients, and are gone after close. */
class BackendsTest {

    private static boolean onPath(String binary) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator, -1)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, binary))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void start_runsEachServerInItsOwnProcess_andCloseStopsThem() throws Exception {
        if (!onPath("redis-server")) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException("redis-server is not on the PATH, and CI=true");
            }
            Assumptions.abort("redis-server is not on the PATH");
        }
        ProcessHandle redis;
        ProcessHandle zookeeper;
        try (Backends backends = Backends.start(true, true, false, false)) {
            RedissonClient redisson = backends.redisson;
            assertThat(redisson).isNotNull();
            redisson.getBucket("backends-test").set("x");
            assertThat(redisson.getBucket("backends-test").get()).isEqualTo("x");
            assertThat(backends.curator).isNotNull();
            assertThat(backends.curator.checkExists().forPath("/")).isNotNull();
            ChildProcess r = backends.redisServer;
            ChildProcess z = backends.zookeeperServer;
            assertThat(r).isNotNull();
            assertThat(z).isNotNull();
            assertThat(r.pid()).isNotEqualTo(ProcessHandle.current().pid());
            assertThat(z.pid()).isNotEqualTo(ProcessHandle.current().pid());
            redis = ProcessHandle.of(r.pid()).orElseThrow();
            zookeeper = ProcessHandle.of(z.pid()).orElseThrow();
            assertThat(redis.isAlive()).isTrue();
            assertThat(zookeeper.isAlive()).isTrue();
        }
        redis.onExit().get(10, TimeUnit.SECONDS);
        zookeeper.onExit().get(10, TimeUnit.SECONDS);
        assertThat(redis.isAlive()).isFalse();
        assertThat(zookeeper.isAlive()).isFalse();
    }
}
