package dev.locking.hazelcast;

import dev.locking.api.AcquireOptions;
import dev.locking.api.Lease;
import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A JVM of its own that uses {@code Locking.create()}, configured by the system properties the test passes
 * (as an application would be): it acquires a key with a lease, prints the lease's expiry and waits to be
 * killed.
 */
public final class ChildJvm {

    private ChildJvm() {}

    /**
     * Runs one mode.
     *
     * @param args {@code hold <key> <leaseMillis>}
     * @throws Exception whatever fails; the exit code is then not 0
     */
    public static void main(String[] args) throws Exception {
        try (LockingService locking = Locking.create()) {
            Lease lease = locking.acquire(args[1], AcquireOptions.builder().ownerId("child-holder")
                    .expire(Duration.ofMillis(Long.parseLong(args[2]))).build());
            System.out.println("HELD " + Objects.requireNonNull(lease.expiresAt()).toEpochMilli());
            System.out.flush();
            TimeUnit.MINUTES.sleep(5);
        }
    }

    /** Starts this class in a new JVM with the test's classpath and the given system properties. */
    static Process start(Map<String, String> properties, Path log, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Xmx256m");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
        command.add("-Dhazelcast.logging.type=slf4j");
        properties.forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add(ChildJvm.class.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(log.toFile()).start();
    }
}
