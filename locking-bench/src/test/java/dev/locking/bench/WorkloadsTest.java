package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every workload against lp_memory and its peer, with tiny counts: the harness, not the numbers. */
class WorkloadsTest {
    private static final Runner.Timing TINY = new Runner.Timing(Duration.ofMillis(20), Duration.ofMillis(150),
            Duration.ofMillis(100));
    private static LockingService locking;

    @BeforeAll
    static void start() {
        locking = Locking.builder().defaultProvider("lp_memory").build();
    }

    @AfterAll
    static void stop() {
        locking.close();
    }

    @Test
    void cycles_takeAndReleaseFreshKeys_onOneAndOnEightThreads() {
        Contender ours = new OursContender(locking, "lp_memory");
        Result w1 = Workloads.cycles(1, "W1", 1, "lp_memory", ours, TINY);
        assertThat(w1.ops()).isPositive();
        assertThat(w1.clean()).isTrue();
        assertThat(w1.ours()).isTrue();
        assertThat(w1.p50()).isPositive();
        Result w2 = Workloads.cycles(1, "W2", Workloads.W2_THREADS, "lp_memory", Peers.reentrantLocks(), TINY);
        assertThat(w2.ops()).isPositive();
        assertThat(w2.threads()).isEqualTo(8);
        assertThat(w2.contender()).isEqualTo("ConcurrentHashMap+ReentrantLock");
        assertThat(locking.inspect(Workloads.prefix(1, "W1") + "0-0")).isEmpty();
    }

    @Test
    void oneKey_excludesEveryEntry_forOursAndThePeer() {
        for (Contender c : List.of(new OursContender(locking, "lp_memory"), Peers.reentrantLocks())) {
            Result w3 = Workloads.oneKey(1, "lp_memory", c, TINY);
            assertThat(w3.ops()).as(c.name()).isPositive();
            assertThat(w3.overlaps()).as(c.name()).isZero();
            assertThat(w3.errors()).as(c.name()).isZero();
            assertThat(w3.note()).as(c.name()).isEmpty();
        }
    }

    @Test
    void multiKey_inCallerOrder_neverDeadlocksOurs_andBoundsThePeer() {
        Result ours = Workloads.multiKey(1, "lp_memory", new OursContender(locking, "lp_memory"), false, TINY);
        assertThat(ours.ops()).isPositive();
        assertThat(ours.clean()).isTrue();
        assertThat(ours.variant()).isEqualTo("caller order");
        long started = System.nanoTime();
        Result peer = Workloads.multiKey(1, "lp_memory", Peers.reentrantLocks(), false, TINY);
        assertThat(peer.contender()).isEqualTo("ReentrantLock per key");
        assertThat(peer.overlaps()).isZero();
        assertThat(peer.stuck()).isZero();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
        Result sorted = Workloads.multiKey(1, "lp_memory", Peers.reentrantLocks(), true, TINY);
        assertThat(sorted.ops()).isPositive();
        assertThat(sorted.clean()).isTrue();
    }

    @Test
    void pick_givesThreeDistinctKeys() {
        for (int i = 0; i < 1000; i++) {
            int[] p = Workloads.pick(java.util.concurrent.ThreadLocalRandom.current());
            assertThat(p).hasSize(3).doesNotHaveDuplicates();
            assertThat(java.util.Arrays.stream(p).boxed()).allSatisfy(k -> assertThat(k).isBetween(0, Workloads.W4_KEYS - 1));
        }
    }

    @Test
    void releaseAll_releasesTheOwnersTen_andLeavesTheOthers() {
        Result w5 = Workloads.releaseAll(1, locking, "lp_memory", 2_000, 2, 5);
        assertThat(w5.ops()).isEqualTo(5);
        assertThat(w5.unit()).isEqualTo("ms");
        assertThat(w5.value()).isPositive();
        assertThat(w5.variant()).isEqualTo("2,000 other locks held");
    }

    @Test
    void heap_ofHeldLocks_isMeasured_andReleasedLocksLeaveLittle() {
        List<Result> ours = Workloads.heap(1, locking, 20_000);
        assertThat(ours).hasSize(2);
        assertThat(ours.get(0).unit()).isEqualTo("B/lock");
        assertThat(ours.get(0).value()).isBetween(10.0, 2_000.0);
        assertThat(ours.get(1).variant()).isEqualTo("after release");
        List<Result> peer = Workloads.heapOfReentrantLocks(1, 20_000);
        assertThat(peer.get(0).contender()).isEqualTo("ConcurrentHashMap+ReentrantLock");
        assertThat(peer.get(0).value()).isPositive();
    }

    @Test
    void order_alternatesWhoGoesFirst() {
        Contender a = new OursContender(locking, "lp_memory");
        Contender b = Peers.reentrantLocks();
        assertThat(Workloads.order(1, List.of(a, b))).containsExactly(a, b);
        assertThat(Workloads.order(2, List.of(a, b))).containsExactly(b, a);
    }
}
