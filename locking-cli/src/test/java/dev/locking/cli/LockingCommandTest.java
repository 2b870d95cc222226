package dev.locking.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
