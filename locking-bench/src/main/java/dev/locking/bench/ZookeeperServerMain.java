package dev.locking.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.curator.test.TestingServer;

/**
 * A ZooKeeper server for the bench, run in a JVM of its own: Curator's {@link TestingServer} on a free port
 * with its data in a new temporary directory (deleted on exit). Prints {@code READY <connectString>} when it
 * serves, and stops when its standard input closes (the bench ended or died) or it is told to stop.
 */
public final class ZookeeperServerMain {
    private ZookeeperServerMain() {}

    /**
     * Starts the server and blocks until standard input closes.
     *
     * @param args none
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("locking-bench-zk-");
        try (TestingServer server = new TestingServer(-1, dir.toFile(), true)) {
            System.out.println(ChildProcess.READY + server.getConnectString());
            System.out.flush();
            waitForEndOfInput(System.in);
        }
        System.exit(0);
    }

    /** Blocks until the stream ends: the parent closed it or died. */
    static void waitForEndOfInput(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // the parent never writes; only the end of the stream matters
            }
        } catch (IOException e) {
            // the pipe broke: the parent is gone
        }
    }
}
