package dev.locking.faults;

import dev.locking.faults.FaultReport.Figures;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * lp_zookeeper under faults, with three child JVMs looping {@code execute} on one key and a ZooKeeper
 * server in a JVM of its own (so that it can be frozen and killed): the holder frozen or killed, the
 * server killed and restarted with its data, the server frozen.
 *
 * <p>The children use the provider's default session timeout (15 s asked, 10 s granted by a server with
 * 500 ms ticks): a frozen or killed holder's ephemeral lock outlives its lease, so the key comes free by
 * the lease (another client takes over the lapsed lock), not by the session.
 *
 * <p>Until issue 10, item 1 is fixed, two waiters may both take over one lapsed lock (tokens n and n + 1):
 * the loser learns it only at its first renewal, and the resource refuses its writes once the winner wrote.
 * The holder scenarios check that no two live children overlap, so they fail when that happens (in most
 * runs before the fix).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZookeeperFaultsTest extends FaultSuite {
    private static final int CHILDREN = 3;

    static Map<String, String> zookeeper(String connectString) {
        return Map.of(
                "locking.default", "lp_zookeeper",
                "locking.providers.zookeeper.type", "zookeeper",
                "locking.providers.zookeeper.connectString", connectString);
    }

    @Test
    @Order(1)
    @Tag("issue-10-item-1")
    @DisplayName("lp_zookeeper: the holder frozen (SIGSTOP) past its lease, then let go"
            + " [fails in most runs until issue 10 item 1 is fixed]")
    void holderPausedPastItsLease() throws Exception {
        try (Scenario s = new Scenario("zookeeper-holder-sigstop"); ZookeeperBackend zk = ZookeeperBackend.start(s.dir)) {
            startChildren(s, CHILDREN, zookeeper(zk.connectString()), loop("lp_zookeeper", s.key, HOLD));
            s.awaitReady();
            holderPaused(s, new Figures(s.name));
        }
    }

    @Test
    @Order(2)
    @Tag("issue-10-item-1")
    @DisplayName("lp_zookeeper: the holder killed (SIGKILL) [fails in most runs until issue 10 item 1 is fixed]")
    void holderKilled() throws Exception {
        try (Scenario s = new Scenario("zookeeper-holder-sigkill"); ZookeeperBackend zk = ZookeeperBackend.start(s.dir)) {
            startChildren(s, CHILDREN, zookeeper(zk.connectString()), loop("lp_zookeeper", s.key, HOLD));
            s.awaitReady();
            FaultSuite.holderKilled(s, new Figures(s.name));
        }
    }

    @Test
    @Order(3)
    @DisplayName("lp_zookeeper: the server killed and restarted with its data")
    void serverKilledAndRestarted() throws Exception {
        try (Scenario s = new Scenario("zookeeper-restart"); ZookeeperBackend zk = ZookeeperBackend.start(s.dir)) {
            startChildren(s, CHILDREN, zookeeper(zk.connectString()), loop("lp_zookeeper", s.key, HOLD));
            s.awaitReady();
            backendRestarted(s, new Figures(s.name), zk, true);
        }
    }

    /**
     * Fails until the core bounds a renewal by the lease's end (issue 10, item 2): the renewal waits for the
     * frozen server and the holder sees its handle lost only after the thaw (about 3.5 s after the freeze,
     * for a bound of 2.6 s).
     */
    @Test
    @Order(4)
    @Tag("issue-10-item-2")
    @DisplayName("lp_zookeeper: the server frozen (SIGSTOP) past the lease: the holder notices in time"
            + " [failed before issue 10 item 2 was fixed]")
    void serverFrozenPastTheLease() throws Exception {
        try (Scenario s = new Scenario("zookeeper-server-sigstop"); ZookeeperBackend zk = ZookeeperBackend.start(s.dir)) {
            startChildren(s, CHILDREN, zookeeper(zk.connectString()), loop("lp_zookeeper", s.key, FROZEN_BACKEND_HOLD));
            s.awaitReady();
            backendFrozen(s, new Figures(s.name), zk);
        }
    }
}
