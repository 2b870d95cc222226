package dev.locking.bench;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.io.IOException;
import java.net.ServerSocket;

/**
 * A Hazelcast member for the bench, run in a JVM of its own: one member on a free loopback port that joins
 * nobody, with this JVM's classpath (so {@code locking-provider-hazelcast}, whose entry processors run on
 * members, is there). Prints {@code READY host:port} when it serves, and stops when its standard input
 * closes.
 */
public final class HazelcastMemberMain {
    private HazelcastMemberMain() {}

    /**
     * Starts the member and blocks until standard input closes.
     *
     * @param args the cluster name
     * @throws IOException if no free port can be found
     */
    public static void main(String[] args) throws IOException {
        String clusterName = args.length > 0 ? args[0] : "locking-bench";
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config(clusterName, freePort()));
        var address = member.getCluster().getLocalMember().getAddress();
        System.out.println(ChildProcess.READY + address.getHost() + ":" + address.getPort());
        System.out.flush();
        ZookeeperServerMain.waitForEndOfInput(System.in);
        member.shutdown();
        System.exit(0);
    }

    static Config config(String clusterName, int port) {
        Config config = new Config();
        config.setClusterName(clusterName);
        config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
        config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = config.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(false);
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.health.monitoring.level", "OFF");
        return config;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
