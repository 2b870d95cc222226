package dev.locking.spi.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locking.spi.AcquireResult;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class GrantInboxTest {

    private static long in(Duration d) {
        return System.nanoTime() + d.toNanos();
    }

    @Test
    void aGrantThatCameBeforeTheSleep_isKept_andTheSlotIsForgottenOnceTaken() throws Exception {
        GrantInbox inbox = new GrantInbox();
        inbox.expect("o", "k", "tag-k", in(Duration.ofMinutes(1)));
        assertThat(inbox.deliver("tag-k", "o", 7, 1000)).isTrue();
        long start = System.nanoTime();
        AcquireResult.Acquired grant = inbox.awaitGrant("o", "k", "tag-k", in(Duration.ofMinutes(1)), () -> false);
        assertThat(grant).isNotNull();
        assertThat(grant.fencingTokens()).containsExactlyEntriesOf(java.util.Map.of("k", 7L));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(inbox.expected()).isZero();
    }

    @Test
    void aGrantForAnotherKey_orAnOwnerWithoutASlot_isIgnored() throws Exception {
        GrantInbox inbox = new GrantInbox();
        GrantInbox.Slot slot = inbox.expect("o", "k", "tag-k", in(Duration.ofMinutes(1)));
        assertThat(inbox.deliver("tag-other", "o", 7, 1000)).isFalse();
        assertThat(inbox.deliver("tag-k", "nobody", 7, 1000)).isFalse();
        assertThat(slot.grant()).isNull();
        assertThat(inbox.awaitGrant("o", "k", "tag-k", in(Duration.ofMillis(50)), () -> false)).isNull();
        assertThat(inbox.expected()).isEqualTo(1);
    }

    @Test
    void aSleeperWakesOnTheGrant_fromAnotherThread() throws Exception {
        GrantInbox inbox = new GrantInbox();
        GrantInbox.Slot slot = inbox.expect("o", "k", "k", in(Duration.ofMinutes(1)));
        CompletableFuture<AcquireResult.Acquired> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return inbox.awaitGrant("o", "k", "k", in(Duration.ofMinutes(1)), () -> false);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(slot::hasSleeper);
        inbox.deliver("k", "o", 9, 1000);
        assertThat(waiting.get(10, TimeUnit.SECONDS).fencingTokens()).containsEntry("k", 9L);
    }

    @Test
    void aSleeperLooksAgainWhenTheHoldersLeaseEnds_once() throws Exception {
        GrantInbox inbox = new GrantInbox();
        GrantInbox.Slot slot = inbox.expect("o", "k", "k", in(Duration.ofMinutes(1)));
        slot.holderLapsesAt(in(Duration.ofMillis(100)));
        long start = System.nanoTime();
        assertThat(GrantInbox.await(slot, in(Duration.ofMinutes(1)), () -> false)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        start = System.nanoTime();
        assertThat(GrantInbox.await(slot, in(Duration.ofMillis(300)), () -> false)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
    }

    @Test
    void theHoldersLapse_fromAReply_isCountedFromTheSend_andUnknownMeansTheDeadline() throws Exception {
        GrantInbox inbox = new GrantInbox();
        GrantInbox.Slot slot = inbox.expect("o", "k", "k", Duration.ofMinutes(1));
        slot.holderLapsesAfter(System.nanoTime(), 100);
        long start = System.nanoTime();
        assertThat(GrantInbox.await(slot, in(Duration.ofMinutes(1)), () -> false)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        slot.holderLapsesAfter(System.nanoTime(), -1);
        start = System.nanoTime();
        assertThat(GrantInbox.await(slot, in(Duration.ofMillis(300)), () -> false)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
        slot.holderLapsesAfter(System.nanoTime(), Long.MAX_VALUE); // capped: no overflow into the past
        start = System.nanoTime();
        assertThat(GrantInbox.await(slot, in(Duration.ofMillis(300)), () -> false)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
    }

    @Test
    void closingEndsTheSleep() throws Exception {
        GrantInbox inbox = new GrantInbox();
        GrantInbox.Slot slot = inbox.expect("o", "k", "k", in(Duration.ofMinutes(1)));
        long start = System.nanoTime();
        assertThat(GrantInbox.await(slot, in(Duration.ofMinutes(1)), () -> true)).isNull();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void aSlotExpectedForAStay_isKeptThroughIt_andSweptAfterItAndTheSlack() {
        GrantInbox inbox = new GrantInbox();
        inbox.expect("long", "k", "k", Duration.ofMinutes(5));
        inbox.expect("short", "k", "k", Duration.ofMillis(1));
        int[] others = {0};
        // Every 64th new slot sweeps the lapsed ones: keep registering until the short stay's slot went.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (int i = 0; i < 64; i++) {
                inbox.expect("other-" + others[0]++, "k", "k", Duration.ofMinutes(5));
            }
            return inbox.slotOf("short") == null;
        });
        assertThat(inbox.slotOf("long")).isNotNull();
        assertThat(inbox.slotOf("other-0")).isNotNull();
    }
}
