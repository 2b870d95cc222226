package dev.locking.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.locking.spi.support.GrantInbox;
import dev.locking.spi.support.KeyWaiters;
import dev.locking.tck.TestConfig;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Who a release notification wakes. No server is needed: the notifications are handed to the channel as the
 * subscription would hand them (the provider's tests cover the real channel).
 */
class ReleaseChannelTest {
    private final KeyLayout layout = new KeyLayout("p:");
    private final RedisConnection connection = new RedisConnection("lp_redis",
            RedisSettings.parse(TestConfig.of("lp_redis", "keyPrefix", "p:")), null);
    private final KeyWaiters waiters = new KeyWaiters();
    private final GrantInbox grants = new GrantInbox();
    private final ReleaseChannel channel = new ReleaseChannel("lp_redis", connection, layout, waiters, grants);
    private final List<String> k = List.of(layout.lockKey("k"));

    @AfterEach
    void tearDown() {
        connection.close();
    }

    @Test
    void aGrant_goesToItsOwnersSlot_whateverCharactersTheOwnerHolds_andWakesNoReleaseWaiter() {
        KeyWaiters.Waiter waiter = waiters.register(k);
        String owner = "exec:o \n{x} !1 2 }";
        GrantInbox.Slot slot = grants.expect(owner, "k", layout.lockKey("k"), System.nanoTime() + 1_000_000_000L);
        GrantInbox.Slot other = grants.expect("exec:other", "k", layout.lockKey("k"), System.nanoTime() + 1_000_000_000L);

        channel.onMessage("!1700000000000001 4000 {k}" + owner);

        assertThat(slot.grant()).isNotNull();
        assertThat(slot.grant().fencingTokens()).containsEntry("k", 1700000000000001L);
        assertThat(other.grant()).isNull();
        assertThat(waiter.isWoken()).isFalse();
    }

    @Test
    void aGrantForAnotherLock_orOfUnknownShape_isIgnored() {
        GrantInbox.Slot slot = grants.expect("exec:o", "k", layout.lockKey("k"), System.nanoTime() + 1_000_000_000L);

        channel.onMessage("!5 4000 {j}exec:o");
        channel.onMessage("!x 4000 {k}exec:o");
        channel.onMessage("!5 4000 exec:o");

        assertThat(slot.grant()).isNull();
    }

    @Test
    void aRelease_wakesTheWaiterThatRegisteredFirst_andOnlyThatOne() {
        KeyWaiters.Waiter first = waiters.register(k);
        KeyWaiters.Waiter second = waiters.register(k);
        KeyWaiters.Waiter third = waiters.register(k);

        channel.onMessage("{k}");

        assertThat(List.of(first.isWoken(), second.isWoken(), third.isWoken())).containsExactly(true, false, false);

        channel.onMessage("{k}");

        assertThat(List.of(second.isWoken(), third.isWoken())).containsExactly(true, false);
    }

    @Test
    void aWakeUpBeforeTheWait_isKept() throws InterruptedException {
        KeyWaiters.Waiter waiter = waiters.register(k);
        channel.onMessage("{k}");

        assertThat(waiter.await(0)).isTrue();
    }

    @Test
    void oneMessage_wakesOneWaiterPerReleasedLock() {
        KeyWaiters.Waiter onA = waiters.register(List.of(layout.lockKey("a")));
        KeyWaiters.Waiter alsoOnA = waiters.register(List.of(layout.lockKey("a")));
        KeyWaiters.Waiter onB = waiters.register(List.of(layout.lockKey("b")));
        KeyWaiters.Waiter onC = waiters.register(List.of(layout.lockKey("c")));

        channel.onMessage("{a}\n{b}");

        assertThat(List.of(onA.isWoken(), alsoOnA.isWoken(), onB.isWoken(), onC.isWoken()))
                .containsExactly(true, false, true, false);
    }

    @Test
    void aWokenWaiterThatLeavesWithoutTrying_passesTheWakeUpOn() {
        KeyWaiters.Waiter woken = waiters.register(k);
        KeyWaiters.Waiter next = waiters.register(k);
        channel.onMessage("{k}");

        woken.close(); // left without trying (not used)

        assertThat(next.isWoken()).isTrue();
    }

    @Test
    void aWokenWaiterThatReturnsNormally_leavesTheNextAsleep() {
        KeyWaiters.Waiter woken = waiters.register(k);
        KeyWaiters.Waiter next = waiters.register(k);
        channel.onMessage("{k}");

        woken.used();
        woken.close();

        assertThat(next.isWoken()).isFalse();
    }

    @Test
    void aWaiterThatWasNotWoken_hasNothingToPassOn() {
        KeyWaiters.Waiter interrupted = waiters.register(k);
        KeyWaiters.Waiter next = waiters.register(k);

        interrupted.close();

        assertThat(next.isWoken()).isFalse();
        channel.onMessage("{k}");
        assertThat(next.isWoken()).isTrue();
    }

    @Test
    void leavingWaiters_leaveNoKeyBehind_andWakeAllWakesEveryone() {
        KeyWaiters.Waiter first = waiters.register(k);
        KeyWaiters.Waiter second = waiters.register(List.of(k.get(0), layout.lockKey("other")));
        assertThat(waiters.waitingKeys()).isEqualTo(2);

        waiters.wakeEveryone();

        assertThat(List.of(first.isWoken(), second.isWoken())).containsExactly(true, true);
        first.used();
        first.close();
        second.used();
        second.close();
        assertThat(waiters.waitingKeys()).isZero();
    }
}
