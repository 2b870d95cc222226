package dev.locking.faults;

import java.nio.file.Path;
import java.util.List;

/**
 * A ZooKeeper server the suite owns ({@link ZookeeperServerMain} in a child JVM) on a free port, which it
 * can kill (SIGKILL), restart on the same port with the same data, and freeze (SIGSTOP) and thaw.
 *
 * <p>Concurrency: as {@link ChildJvmBackend}; this class adds only fixed values.
 */
final class ZookeeperBackend extends ChildJvmBackend {
    /** Ticks of 500 ms: sessions may then last 1 to 10 s. */
    static final int TICK_MILLIS = 500;

    private ZookeeperBackend(Path dir, int port) {
        super(dir, port, "zookeeper", ZookeeperServerMain.class);
    }

    static ZookeeperBackend start(Path parent) {
        int port = freePort();
        ZookeeperBackend zk = new ZookeeperBackend(directory(parent, "zookeeper", port), port);
        zk.begin();
        return zk;
    }

    String connectString() {
        return "127.0.0.1:" + port;
    }

    @Override
    List<String> arguments() {
        return List.of(Integer.toString(port), dir.resolve("data").toString(), Integer.toString(TICK_MILLIS));
    }

    @Override
    public String name() {
        return "ZooKeeper";
    }
}
