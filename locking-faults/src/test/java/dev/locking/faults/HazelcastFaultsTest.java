package dev.locking.faults;

import dev.locking.faults.FaultReport.Figures;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * lp_hazelcast under faults, with three child JVMs looping {@code execute} on one key as clients of a
 * Hazelcast member in a JVM of its own (so that it can be frozen and killed): the holder frozen or killed,
 * the member killed and restarted, the member frozen.
 *
 * <p>The children use the provider's default client options ({@code connectTimeout} and
 * {@code operationTimeout} 5 s). A killed or frozen holder's lock lapses with its lease: the member does
 * not free a client's locks when the client goes away, and waiters re-check when the holder's lease ends.
 *
 * <p>Open-source Hazelcast keeps no data on disk, so the restarted member has lost every lock and stored
 * token, as Redis without persistence does: tokens must still not go back (lp_hazelcast floors a new token
 * by the member's clock), and overlaps are reported, not checked (no lock can tell its holder in time then).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HazelcastFaultsTest extends FaultSuite {
    private static final int CHILDREN = 3;

    static Map<String, String> hazelcast(HazelcastBackend member) {
        Map<String, String> properties = new HashMap<>(member.clientOptions("hazelcast"));
        properties.put("locking.default", "lp_hazelcast");
        return properties;
    }

    @Test
    @Order(1)
    @DisplayName("lp_hazelcast: the holder frozen (SIGSTOP) past its lease, then let go")
    void holderPausedPastItsLease() throws Exception {
        run("hazelcast-holder-sigstop", HOLD, (s, hz) -> holderPaused(s, new Figures(s.name)));
    }

    @Test
    @Order(2)
    @DisplayName("lp_hazelcast: the holder killed (SIGKILL)")
    void holderKilled() throws Exception {
        run("hazelcast-holder-sigkill", HOLD, (s, hz) -> FaultSuite.holderKilled(s, new Figures(s.name)));
    }

    @Test
    @Order(3)
    @DisplayName("lp_hazelcast: the member killed and restarted empty: tokens must not go back")
    void memberKilledAndRestarted() throws Exception {
        run("hazelcast-restart", HOLD, (s, hz) -> backendRestarted(s, new Figures(s.name), hz, false));
    }

    @Test
    @Order(4)
    @DisplayName("lp_hazelcast: the member frozen (SIGSTOP) past the lease: the holder notices in time")
    void memberFrozenPastTheLease() throws Exception {
        run("hazelcast-member-sigstop", FROZEN_BACKEND_HOLD, (s, hz) -> backendFrozen(s, new Figures(s.name), hz));
    }

    /** What a scenario does once its member serves and its children are ready. */
    private interface Fault {
        void apply(Scenario s, HazelcastBackend member) throws InterruptedException;
    }

    /** A member of its own, {@link #CHILDREN} children looping jobs of {@code hold} on one key, then the fault. */
    private static void run(String name, Duration hold, Fault fault) throws InterruptedException {
        try (Scenario s = new Scenario(name); HazelcastBackend hz = HazelcastBackend.start(s.dir)) {
            startChildren(s, CHILDREN, hazelcast(hz), loop("lp_hazelcast", s.key, hold));
            s.awaitReady();
            fault.apply(s, hz);
        }
    }
}
