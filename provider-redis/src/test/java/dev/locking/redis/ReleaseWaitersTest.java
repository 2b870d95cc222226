package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Who a release notification wakes. No server is needed: the notifications are handed to the waiters as the
 * subscription would hand them (the provider's tests cover the real channel).
 */
class ReleaseWaitersTest {
    private final KeyLayout layout = new KeyLayout("p:");
    private final RedisConnection connection = new RedisConnection("lp_redis",
            RedisSettings.parse(TestConfig.of("lp_redis", "keyPrefix", "p:")), null);
    private final ReleaseWaiters waiters = new ReleaseWaiters(connection, layout);
    private final List<String> k = List.of(layout.lockKey("k"));

    @AfterEach
    void tearDown() {
        connection.close();
    }

    @Test
    void aRelease_wakesTheWaiterThatRegisteredFirst_andOnlyThatOne() {
        ReleaseWaiters.Waiter first = waiters.register(k);
        ReleaseWaiters.Waiter second = waiters.register(k);
        ReleaseWaiters.Waiter third = waiters.register(k);

        waiters.onMessage("{k}");

        assertThat(List.of(first.isWoken(), second.isWoken(), third.isWoken())).containsExactly(true, false, false);

        waiters.onMessage("{k}");

        assertThat(List.of(second.isWoken(), third.isWoken())).containsExactly(true, false);
    }

    @Test
    void aWakeUpBeforeTheWait_isKept() throws InterruptedException {
        ReleaseWaiters.Waiter waiter = waiters.register(k);
        waiters.onMessage("{k}");

        assertThat(waiter.await(0)).isTrue();
    }

    @Test
    void oneMessage_wakesOneWaiterPerReleasedLock() {
        ReleaseWaiters.Waiter onA = waiters.register(List.of(layout.lockKey("a")));
        ReleaseWaiters.Waiter alsoOnA = waiters.register(List.of(layout.lockKey("a")));
        ReleaseWaiters.Waiter onB = waiters.register(List.of(layout.lockKey("b")));
        ReleaseWaiters.Waiter onC = waiters.register(List.of(layout.lockKey("c")));

        waiters.onMessage("{a}\n{b}");

        assertThat(List.of(onA.isWoken(), alsoOnA.isWoken(), onB.isWoken(), onC.isWoken()))
                .containsExactly(true, false, true, false);
    }

    @Test
    void aWokenWaiterThatLeavesWithoutTrying_passesTheWakeUpOn() {
        ReleaseWaiters.Waiter woken = waiters.register(k);
        ReleaseWaiters.Waiter next = waiters.register(k);
        waiters.onMessage("{k}");

        waiters.unregister(woken, k, true);

        assertThat(next.isWoken()).isTrue();
    }

    @Test
    void aWokenWaiterThatReturnsNormally_leavesTheNextAsleep() {
        ReleaseWaiters.Waiter woken = waiters.register(k);
        ReleaseWaiters.Waiter next = waiters.register(k);
        waiters.onMessage("{k}");

        waiters.unregister(woken, k, false);

        assertThat(next.isWoken()).isFalse();
    }

    @Test
    void aWaiterThatWasNotWoken_hasNothingToPassOn() {
        ReleaseWaiters.Waiter interrupted = waiters.register(k);
        ReleaseWaiters.Waiter next = waiters.register(k);

        waiters.unregister(interrupted, k, true);

        assertThat(next.isWoken()).isFalse();
        waiters.onMessage("{k}");
        assertThat(next.isWoken()).isTrue();
    }

    @Test
    void leavingWaiters_leaveNoKeyBehind_andWakeAllWakesEveryone() {
        ReleaseWaiters.Waiter first = waiters.register(k);
        ReleaseWaiters.Waiter second = waiters.register(List.of(k.get(0), layout.lockKey("other")));
        assertThat(waiters.waitingKeys()).isEqualTo(2);

        waiters.wakeAll();

        assertThat(List.of(first.isWoken(), second.isWoken())).containsExactly(true, true);
        waiters.unregister(first, k, false);
        waiters.unregister(second, List.of(k.get(0), layout.lockKey("other")), false);
        assertThat(waiters.waitingKeys()).isZero();
    }
}
