package dev.locking.faults;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A Hazelcast member the suite owns ({@link HazelcastMemberMain} in a child JVM) on a free port, with a
 * cluster name of its own, which it can kill (SIGKILL), restart on the same port (empty: open-source
 * Hazelcast keeps nothing on disk), and freeze (SIGSTOP) and thaw. The providers connect to it as clients.
 *
 * <p>Concurrency: as {@link ChildJvmBackend}; this class adds only fixed values.
 */
final class HazelcastBackend extends ChildJvmBackend {
    private final String clusterName;

    private HazelcastBackend(Path dir, int port) {
        super(dir, port, "hazelcast", HazelcastMemberMain.class);
        this.clusterName = "faults-" + port;
    }

    static HazelcastBackend start(Path parent) {
        int port = freePort();
        HazelcastBackend hz = new HazelcastBackend(directory(parent, "hazelcast", port), port);
        hz.begin();
        return hz;
    }

    /** The options of a provider named {@code providerName} that connects to this member as a client. */
    Map<String, String> clientOptions(String providerName) {
        String prefix = "locking.providers." + providerName + ".";
        return Map.of(
                prefix + "type", "hazelcast",
                prefix + "members", "127.0.0.1:" + port,
                prefix + "clusterName", clusterName);
    }

    @Override
    List<String> arguments() {
        return List.of(Integer.toString(port), clusterName);
    }

    @Override
    public String name() {
        return "Hazelcast member";
    }
}
