package dev.locking.faults;

import java.io.File;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * A ZooKeeper server in a JVM of its own, so that the suite can freeze (SIGSTOP) and kill it: Curator's
 * {@link TestingServer} on a given port and data directory, which it keeps when it ends, so that a new
 * process on the same port and directory restarts the same server with its data. Prints
 * {@code READY <connectString>} once it serves and runs until its standard input ends.
 *
 * <p>Arguments: {@code port dataDirectory tickMillis}.
 */
public final class ZookeeperServerMain {
    private ZookeeperServerMain() {}

    /**
     * Starts the server and blocks until standard input ends.
     *
     * @param args {@code port dataDirectory tickMillis}
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        File dir = new File(args[1]);
        int tick = Integer.parseInt(args[2]);
        InstanceSpec spec = new InstanceSpec(dir, port, -1, -1, false, 1, tick, -1);
        TestingServer server = new TestingServer(spec, true);
        System.out.println("READY " + server.getConnectString());
        System.out.flush();
        ChildJvm.awaitEndOfInput();
        server.stop();
        System.exit(0);
    }
}
