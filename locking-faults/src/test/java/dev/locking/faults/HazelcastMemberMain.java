package dev.locking.faults;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

/**
 * A Hazelcast member in a JVM of its own, so that the suite can freeze (SIGSTOP) and kill it: a one-member
 * cluster on {@code 127.0.0.1:port} that joins nobody, with the lock provider's entry processors on its
 * classpath (this JVM has the test's classpath). Open-source Hazelcast keeps no data on disk, so a new
 * process on the same port is the same address with an empty map. Prints {@code READY 127.0.0.1:port} once
 * it serves and runs until its standard input ends.
 *
 * <p>Arguments: {@code port clusterName}.
 */
public final class HazelcastMemberMain {
    private HazelcastMemberMain() {}

    /**
     * Starts the member and blocks until standard input ends.
     *
     * @param args {@code port clusterName}
     */
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        HazelcastInstance member = Hazelcast.newHazelcastInstance(config(port, args[1]));
        System.out.println("READY 127.0.0.1:" + port);
        System.out.flush();
        ChildJvm.awaitEndOfInput();
        member.shutdown();
        System.exit(0);
    }

    private static Config config(int port, String clusterName) {
        Config config = new Config();
        config.setClusterName(clusterName);
        config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
        config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = config.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", "slf4j");
        // Quick to start on a shared 2-core machine: few partitions, no wait for members that never come.
        config.setProperty("hazelcast.partition.count", "31");
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.health.monitoring.level", "OFF");
        return config;
    }
}
