package dev.locking.faults;

import dev.locking.faults.FaultReport.Figures;
import java.time.Duration;
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
 * <p>Before issue 10, item 1 was fixed, two waiters could both take over one lapsed lock (tokens n and
 * n + 1): the loser learned it only at its first renewal. The holder scenarios check that no two live
 * children overlap, and they failed in most runs then.
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
            + " [failed in most runs before issue 10 item 1 was fixed]")
    void holderPausedPastItsLease() throws Exception {
        run("zookeeper-holder-sigstop", HOLD, (s, zk) -> holderPaused(s, new Figures(s.name)));
    }

    @Test
    @Order(2)
    @Tag("issue-10-item-1")
    @DisplayName("lp_zookeeper: the holder killed (SIGKILL) [failed in most runs before issue 10 item 1 was fixed]")
    void holderKilled() throws Exception {
        run("zookeeper-holder-sigkill", HOLD, (s, zk) -> FaultSuite.holderKilled(s, new Figures(s.name)));
    }

    @Test
    @Order(3)
    @DisplayName("lp_zookeeper: the server killed and restarted with its data")
    void serverKilledAndRestarted() throws Exception {
        run("zookeeper-restart", HOLD, (s, zk) -> backendRestarted(s, new Figures(s.name), zk, true));
    }

    /**
     * Failed before the core bounded a renewal by the lease's end (issue 10, item 2): the renewal waited for
     * the frozen server and the holder saw its handle lost only after the thaw (about 3.5 s after the freeze,
     * for a bound of 2.6 s).
     */
    @Test
    @Order(4)
    @Tag("issue-10-item-2")
    @DisplayName("lp_zookeeper: the server frozen (SIGSTOP) past the lease: the holder notices in time"
            + " [failed before issue 10 item 2 was fixed]")
    void serverFrozenPastTheLease() throws Exception {
        run("zookeeper-server-sigstop", FROZEN_BACKEND_HOLD, (s, zk) -> backendFrozen(s, new Figures(s.name), zk));
    }

    /** What a scenario does once its server serves and its children are ready. */
    private interface Fault {
        void apply(Scenario s, ZookeeperBackend server) throws Exception;
    }

    /** A server of its own, {@link #CHILDREN} children looping jobs of {@code hold} on one key, then the fault. */
    private static void run(String name, Duration hold, Fault fault) throws Exception {
        try (Scenario s = new Scenario(name); ZookeeperBackend zk = ZookeeperBackend.start(s.dir)) {
            startChildren(s, CHILDREN, zookeeper(zk.connectString()), loop("lp_zookeeper", s.key, hold));
            s.awaitReady();
            fault.apply(s, zk);
        }
    }
}
