package dev.locking.faults;

import dev.locking.faults.FaultReport.Figures;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 10, item 3: one provider's stalled backend must not delay another provider's renewals. One child
 * JVM runs a service with lp_redis and lp_zookeeper: one thread holds a key on lp_redis in a long job,
 * another holds a key on lp_zookeeper in a long job (both with a lease of {@link #LEASE}). A second child contends for that key on
 * lp_zookeeper. redis-server is then frozen (SIGSTOP) for longer than the ZooKeeper lease. The ZooKeeper
 * job must keep its lease: the contender never gets the key and the holder's handle never turns lost.
 *
 * <p>Expected to fail until the core renews each provider independently (issue 10, item 3): today one
 * thread renews every provider, so a renewal stuck on the frozen Redis holds back the ZooKeeper renewal,
 * the lease lapses and the contender takes the key.
 */
class TwoProviderFaultsTest extends FaultSuite {
    /** The ZooKeeper job outlasts the contender's start, the freeze and the watch after it. */
    private static final Duration LONG_HOLD = Duration.ofSeconds(60);
    /** Redis frozen for well over the ZooKeeper lease. */
    private static final Duration REDIS_FROZEN = LEASE.multipliedBy(2).plusSeconds(1);

    @Test
    @Tag("issue-10-item-3")
    @DisplayName("lp_redis frozen: an execute on lp_zookeeper in the same service keeps its lease"
            + " [failed before issue 10 item 3 was fixed]")
    void frozenRedisDoesNotStarveZookeeperRenewals() throws Exception {
        try (Scenario s = new Scenario("two-providers-redis-frozen");
                RedisBackend redis = RedisBackend.start(s.dir, false);
                ZookeeperBackend zk = ZookeeperBackend.start(s.dir)) {
            String redisKey = s.key + "-redis";
            Map<String, String> both = new HashMap<>(ZookeeperFaultsTest.zookeeper(zk.connectString()));
            both.put("locking.providers.redis.type", "redis");
            both.put("locking.providers.redis.address", redis.address());
            // The lp_redis job is long too: its lease is renewed during the whole freeze, so a renewal is
            // always stuck on the frozen server (a short job could end, and its release wait outside the
            // renewer, just before the freeze).
            s.startChild("both", both, loop("lp_zookeeper", s.key, LONG_HOLD), loop("lp_redis", redisKey, LONG_HOLD));
            s.awaitReady();
            Event holder = s.awaitHolder(s.key);
            Event redisHolder = s.awaitHolder(redisKey);
            s.startChild("contender", ZookeeperFaultsTest.zookeeper(zk.connectString()),
                    loop("lp_zookeeper", s.key, HOLD));
            s.awaitReady();
            long freezeAt = s.timeline.fault("SIGSTOP redis-server (child both holds " + s.key + " on lp_zookeeper"
                    + " with token " + holder.token() + ")");
            redis.freeze();
            Scenario.holdFault(REDIS_FROZEN);
            long thawAt = s.timeline.fault("SIGCONT redis-server");
            redis.thaw();
            // Watch one more lease after the thaw: a lease that lapsed during the freeze shows by then.
            Scenario.holdFault(LEASE.plusSeconds(1));
            long watchedUntil = s.timeline.fault("end of the watch");
            boolean heldThroughout = FaultSuite.heldAt(s, holder, watchedUntil);
            boolean redisJobAtFreeze = FaultSuite.heldAt(s, redisHolder, freezeAt);
            Optional<Event> contenderGot = s.firstGrantAfter(freezeAt - 1, "both");
            Optional<Event> holderLost = s.lost("both", s.key, holder.token());
            Figures f = new Figures(s.name);
            f.recovery = "-";
            f.lostNoticed = holderLost.map(e -> "ZooKeeper handle LOST " + (e.millis() - freezeAt) + " after the"
                    + " freeze").orElse("ZooKeeper handle kept");
            f.notes += "redis-server frozen for " + (thawAt - freezeAt) + " ms, lp_zookeeper lease " + LEASE.toMillis()
                    + " ms; the contender " + contenderGot.map(e -> "GOT the key " + (e.millis() - freezeAt)
                            + " ms after the freeze").orElse("never got the key") + "; lp_redis calls failed meanwhile: "
                    + s.timeline.count(e -> e.is("FAIL") && e.key().equals(redisKey) && e.millis() >= freezeAt)
                    + ". ";
            finish(s, f, softly -> {
                softly.assertThat(redisJobAtFreeze).as("%s: the lp_redis job still ran when redis-server froze",
                        s.name).isTrue();
                softly.assertThat(contenderGot).as("%s: the contender took the ZooKeeper key while its holder's"
                        + " job ran (its lease was not renewed while Redis was frozen)", s.name).isEmpty();
                softly.assertThat(holderLost).as("%s: the ZooKeeper job's handle turned lost", s.name).isEmpty();
                softly.assertThat(heldThroughout).as("%s: the ZooKeeper job still ran at the end of the watch", s.name)
                        .isTrue();
            });
        }
    }
}
