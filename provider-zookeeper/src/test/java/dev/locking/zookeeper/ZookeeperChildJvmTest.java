package dev.locking.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A process that holds an {@code execute} lock and is killed with SIGKILL (no shutdown hook, no release):
 * its lock goes with its ZooKeeper session, once the session timeout passes.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ZookeeperChildJvmTest {
    @RegisterExtension
    static final ZookeeperServer ZK = ZookeeperServer.fromEnvOrStart();

    @TempDir
    Path dir;

    @Test
    void aKilledExecuteHolder_losesItsLock_whenItsSessionTimesOut() throws Exception {
        String namespace = "test-child-" + UUID.randomUUID().toString().substring(0, 8);
        String key = "child-" + UUID.randomUUID();
        Path tokenFile = dir.resolve("token");
        Duration session = Duration.ofSeconds(2);
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Xmx128m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        Path argFile = dir.resolve("cp.args");
        Files.writeString(argFile, "-cp\n\"" + classPath().replace("\\", "\\\\").replace("\"", "\\\"") + "\"\n",
                StandardCharsets.UTF_8);
        command.add("@" + argFile);
        command.add("-Dlocking.default=lp_zookeeper");
        command.add("-Dlocking.providers.zookeeper.connectString=" + ZK.connectString());
        command.add("-Dlocking.providers.zookeeper.namespace=" + namespace);
        command.add("-Dlocking.providers.zookeeper.sessionTimeout=" + session.toMillis() + "ms");
        command.add("-Dlocking.providers.zookeeper.connectionTimeout=" + session.toMillis() + "ms");
        command.addAll(List.of(ExecuteHolderMain.class.getName(), key, tokenFile.toString()));
        Process child = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.out").toFile())
                .start();
        LockingProvider observer = ZK.provider("lp_zookeeper", namespace);
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .failFast("the child died", () -> !child.isAlive())
                    .until(() -> Files.exists(tokenFile));
            long token = Long.parseLong(Files.readString(tokenFile, StandardCharsets.UTF_8).trim());
            assertThat(observer.inspect(key)).get().extracting(LockInfo::fencingToken).isEqualTo(token);
            assertThat(observer.tryAcquire(List.of(key), "bob", null)).isEqualTo(new AcquireResult.Conflict(key));

            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
            long killedAt = System.nanoTime();

            // Its lease (30 s by default, renewed until the kill) is far away: the end of its session frees the key.
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                    .until(() -> observer.inspect(key).isEmpty());
            Duration freedAfter = Duration.ofNanos(System.nanoTime() - killedAt);
            LoggerFactory.getLogger(ZookeeperChildJvmTest.class).info("The killed holder's lock was free after {}",
                    freedAfter);
            assertThat(freedAfter).as("well before the 20 to 30 s the lease had left").isLessThan(Duration.ofSeconds(15));
            AcquireResult next = observer.tryAcquire(List.of(key), "bob", null);
            assertThat(next).isInstanceOf(AcquireResult.Acquired.class);
            assertThat(((AcquireResult.Acquired) next).fencingTokens().get(key)).isGreaterThan(token);
        } finally {
            child.destroyForcibly();
            observer.releaseAll(null);
            observer.close();
        }
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command()
                .filter(c -> Files.isExecutable(Paths.get(c)))
                .orElse(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    }

    private static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path", "");
    }
}
