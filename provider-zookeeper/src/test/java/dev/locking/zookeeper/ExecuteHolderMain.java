package dev.locking.zookeeper;

import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM that runs {@code execute} on one key through {@code Locking.create()} (configured by the
 * {@code -Dlocking...} system properties it was started with), writes the job's fencing token to a file
 * and then blocks inside the job until it is killed (or five minutes pass, so a forgotten child never
 * lingers).
 *
 * <p>Arguments: the key, the file to write.
 */
public final class ExecuteHolderMain {
    private ExecuteHolderMain() {}

    public static void main(String[] args) throws Exception {
        String key = args[0];
        Path file = Path.of(args[1]);
        try (LockingService locking = Locking.create()) {
            locking.execute(key, lock -> {
                Path tmp = Path.of(file + ".tmp");
                Files.writeString(tmp, Long.toString(lock.fencingToken(key)), StandardCharsets.UTF_8);
                Files.move(tmp, file);
                TimeUnit.MINUTES.sleep(5);
                return null;
            });
        }
        System.exit(3);
    }
}
