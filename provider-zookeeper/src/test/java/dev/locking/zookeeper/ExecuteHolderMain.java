package dev.locking.zookeeper;

import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM that takes one key the way {@code execute} does (an {@code exec:} owner, so an ephemeral
 * node in its session), writes the fencing token to a file and then blocks until it is killed (or five
 * minutes pass, so a forgotten child never lingers).
 *
 * <p>Arguments: connect string, namespace, session timeout, key, the file to write.
 */
public final class ExecuteHolderMain {
    private ExecuteHolderMain() {}

    public static void main(String[] args) throws Exception {
        LockingProvider provider = new ZookeeperProviderFactory().create(new MapConfig("lp_zookeeper",
                Map.of("connectString", args[0], "namespace", args[1], "sessionTimeout", args[2])));
        AcquireResult result = provider.tryAcquire(List.of(args[3]), "exec:child:" + ProcessHandle.current().pid(),
                Duration.ofMinutes(5));
        if (!(result instanceof AcquireResult.Acquired acquired)) {
            System.exit(2);
            return;
        }
        Path tmp = Path.of(args[4] + ".tmp");
        Files.writeString(tmp, Long.toString(acquired.fencingTokens().get(args[3])), StandardCharsets.UTF_8);
        Files.move(tmp, Path.of(args[4]));
        TimeUnit.MINUTES.sleep(5);
        System.exit(3);
    }
}
