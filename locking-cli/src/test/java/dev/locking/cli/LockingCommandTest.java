package dev.locking.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LockingCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final LockingCommand command = new LockingCommand(
            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void demo_showsTheOversoldStockWithoutALock_andTheExactResultWithExecute() {
        int code = command.run(new String[] {"demo", "--provider", "lp_memory"});
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(out()).contains("Locking demo on lp_memory")
                .containsPattern("without a lock: +10 sold, +0 turned away, stock left +-5 +<- oversold by 5")
                .containsPattern("with execute\\(\\): +5 sold, +5 turned away, stock left +0 +<- exact");
    }

    @Test
    void demo_onAnUnknownProvider_namesTheKnownOnes() {
        int code = command.run(new String[] {"demo", "--provider", "lp_nope"});
        assertThat(code).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("lp_nope").contains("lp_memory");
    }

    @Test
    void acquire_printsTheLease() {
        assertThat(command.run(new String[] {"acquire", "k1", "--owner", "ops", "--expire", "30s"})).isZero();
        assertThat(out()).contains("acquired \"k1\" on lp_memory");
    }

    @Test
    void acquireWithWait_onAHeldKey_timesOut_withExit1() {
        try (LockingService other = Locking.create()) { // lp_memory: one lock table for the whole JVM
            other.acquire("cli-wait-1");
            long start = System.nanoTime();
            assertThat(command.run(new String[] {"acquire", "cli-wait-1", "--wait", "300ms"})).isEqualTo(1);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(250));
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("Timed-out acquiring lock.");
            assertThat(other.release("cli-wait-1")).isTrue();
        }
    }

    @Test
    void acquireWithWait_takesTheKeyWhenAnotherThreadReleasesIt() throws Exception {
        try (LockingService other = Locking.create()) {
            other.acquire("cli-wait-2");
            AtomicReference<Thread> runner = new AtomicReference<>();
            CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> {
                runner.set(Thread.currentThread());
                return command.run(new String[] {"acquire", "cli-wait-2", "--wait", "60s", "--owner", "ops"});
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> code.isDone()
                    || (runner.get() != null && runner.get().getState() == Thread.State.TIMED_WAITING));
            assertThat(code).as("waits while the key is held").isNotDone();
            assertThat(other.release("cli-wait-2")).isTrue();
            assertThat(code.get(30, TimeUnit.SECONDS)).as(err.toString(StandardCharsets.UTF_8)).isZero();
            assertThat(out()).contains("acquired \"cli-wait-2\" on lp_memory");
            assertThat(other.inspect("cli-wait-2").orElseThrow().ownerId()).isEqualTo("ops");
            assertThat(other.release("cli-wait-2", dev.locking.api.ReleaseOptions.builder().ownerId("ops").build()))
                    .isTrue();
        }
    }

    @Test
    void acquireWithANegativeWait_isBadUsage() {
        assertThat(command.run(new String[] {"acquire", "cli-wait-3", "--wait", "-1s"})).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("wait");
    }

    @Test
    void badUsage_exitsWith2_andPrintsUsage() {
        assertThat(command.run(new String[] {"acquire"})).isEqualTo(2);
        assertThat(command.run(new String[] {"inspect", "k", "--expire", "soon"})).isEqualTo(2);
        assertThat(command.run(new String[] {"frobnicate"})).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("needs a key").contains("is not a duration")
                .contains("unknown command");
    }

    @Test
    void durations_acceptTheUsualForms() {
        assertThat(LockingCommand.Options.duration("30s")).hasSeconds(30);
        assertThat(LockingCommand.Options.duration("500ms")).hasMillis(500);
        assertThat(LockingCommand.Options.duration("2m")).hasMinutes(2);
        assertThat(LockingCommand.Options.duration("PT1M")).hasMinutes(1);
        assertThat(LockingCommand.Options.duration("250")).hasMillis(250);
    }
}
