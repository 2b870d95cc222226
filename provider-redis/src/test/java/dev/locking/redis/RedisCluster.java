package dev.locking.redis;

import static org.awaitility.Awaitility.await;

import dev.locking.spi.LockingProvider;
import dev.locking.tck.TestConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Redis Cluster of three masters (no replicas), made of {@code redis-server} processes with
 * {@code cluster-enabled yes} on free ports, shared by the whole test run. Slots are assigned and nodes
 * introduced with {@code CLUSTER ADDSLOTSRANGE} and {@code CLUSTER MEET}, then the fixture waits until
 * every node reports {@code cluster_state:ok} and knows the other two.
 */
final class RedisCluster implements BeforeAllCallback {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RedisCluster.class);
    private static final int MASTERS = 3;

    private volatile @Nullable Nodes nodes;

    static RedisCluster shared() {
        return new RedisCluster();
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        nodes = context.getRoot().getStore(NAMESPACE).computeIfAbsent("cluster", k -> Nodes.start(), Nodes.class);
    }

    private Nodes get() {
        Nodes n = nodes;
        if (n == null) {
            throw new IllegalStateException("RedisCluster is used before its beforeAll ran");
        }
        return n;
    }

    List<RedisProcess> processes() {
        return get().processes;
    }

    String nodeList() {
        return get().nodeList();
    }

    /** Which of the masters (0, 1, 2) serves a slot. */
    static int nodeOf(int slot) {
        int node = 0;
        for (int i = 0; i < MASTERS; i++) {
            if (slot >= i * 16384 / MASTERS) {
                node = i;
            }
        }
        return node;
    }

    /** An admin connection to the node that serves a slot. */
    RespClient adminFor(int slot) {
        int port = get().processes.get(nodeOf(slot)).port();
        return RespClient.connect("127.0.0.1", port, null, null, null);
    }

    LockingProvider provider(String id, String... moreOptions) {
        List<String> options = new ArrayList<>(List.of("mode", "cluster", "nodes", nodeList()));
        options.addAll(List.of(moreOptions));
        return new RedisProviderFactory().create(TestConfig.of(id, options.toArray(new String[0])));
    }

    /** The processes of the run's cluster; stopped when the run ends. */
    static final class Nodes implements AutoCloseable {
        final List<RedisProcess> processes;

        private Nodes(List<RedisProcess> processes) {
            this.processes = processes;
        }

        static Nodes start(String... extraArgs) {
            RedisProcess.requireBinary();
            List<RedisProcess> processes = new ArrayList<>();
            try {
                for (int i = 0; i < MASTERS; i++) {
                    int port = RedisProcess.freePort(true);
                    List<String> args = new ArrayList<>(List.of("--cluster-enabled", "yes",
                            "--cluster-config-file", "nodes-" + port + ".conf", "--cluster-node-timeout", "2000"));
                    args.addAll(List.of(extraArgs));
                    processes.add(RedisProcess.start(port, null, null, args.toArray(new String[0])));
                }
                for (int i = 0; i < MASTERS; i++) {
                    try (RespClient admin = processes.get(i).admin()) {
                        admin.call("CLUSTER", "ADDSLOTSRANGE", Integer.toString(i * 16384 / MASTERS),
                                Integer.toString((i + 1) * 16384 / MASTERS - 1));
                        if (i > 0) {
                            admin.call("CLUSTER", "MEET", "127.0.0.1", Integer.toString(processes.get(0).port()));
                        }
                    }
                }
                await("a cluster of " + MASTERS + " masters with every slot covered")
                        .atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(100))
                        .until(() -> processes.stream().allMatch(Nodes::ready));
                return new Nodes(processes);
            } catch (RuntimeException e) {
                processes.forEach(RedisProcess::close);
                throw e;
            }
        }

        String nodeList() {
            return processes.stream().map(RedisProcess::address).collect(Collectors.joining(","));
        }

        private static boolean ready(RedisProcess process) {
            try (RespClient admin = process.admin()) {
                String info = admin.string("CLUSTER", "INFO");
                return info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
                        && info.contains("cluster_known_nodes:" + MASTERS) && info.contains("cluster_size:" + MASTERS);
            }
        }

        @Override
        public void close() {
            processes.forEach(RedisProcess::close);
        }
    }
}
