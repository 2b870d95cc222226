package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cross-process machinery without a backend server: two real worker JVMs share the overlap counter, and
 * see each other's holders. No assertion depends on how fast the machine is.
 */
class CrossProcessTest {
    private static final Runner.Timing TIMING = new Runner.Timing(Duration.ofMillis(200), Duration.ofSeconds(1),
            Duration.ofSeconds(1));

    @Test
    void jainIndex_isOneWhenEvenAndOneOverNWhenOneThreadTakesAll() {
        assertThat(Fairness.jainIndex(new long[] {5, 5, 5, 5})).isEqualTo(1.0);
        assertThat(Fairness.jainIndex(new long[] {10, 0, 0, 0})).isEqualTo(0.25);
        // (1 + 3)^2 / (2 * (1 + 9)) = 16 / 20
        assertThat(Fairness.jainIndex(new long[] {1, 3})).isCloseTo(0.8, within(1e-12));
        assertThat(Fairness.jainIndex(new long[] {})).isNaN();
        assertThat(Fairness.jainIndex(new long[] {0, 0})).isNaN();
    }

    @Test
    void sharedCounters_seeEachOthersEntries_inOneFile(@TempDir Path dir) {
        Path file = dir.resolve("counters");
        SharedCounters a = SharedCounters.open(file);
        SharedCounters b = SharedCounters.open(file);
        assertThat(a.enter(3)).as("first in").isFalse();
        assertThat(b.enter(3)).as("second in, through another mapping").isTrue();
        assertThat(a.inside(3)).isEqualTo(2);
        b.leave(3);
        a.leave(3);
        a.incrementUnsynchronised();
        b.incrementUnsynchronised();
        assertThat(a.counter()).isEqualTo(2);
    }

    @Test
    void overlaps_areCountedAcrossTwoWorkerJvms_andAFileLockHasNone(@TempDir Path dir) {
        try (CrossProcess workers = CrossProcess.start(WorkerMain.LOCAL, dir.resolve("lock").toString(), "-", 2,
                dir)) {
            assertThat(workers.contenders()).containsExactly(WorkerMain.NO_LOCK, WorkerMain.FILE_LOCK);

            // No lock, and each holder stays inside until another one entered: the holders of the two JVMs
            // meet inside, whatever the scheduling.
            Result none = workers.measure(1, "W7", "local", WorkerMain.NO_LOCK, TIMING, true);
            assertThat(none.overlaps()).as("overlaps without a lock").isPositive();
            assertThat(none.note()).as("seen on entry, not only as lost counter updates")
                    .containsPattern("; [1-9][0-9]* entries found another holder inside");
            assertThat(none.threads()).isEqualTo(2 * CrossProcess.W7_THREADS);

            Result locked = workers.measure(1, "W7", "local", WorkerMain.FILE_LOCK, TIMING, false);
            assertThat(locked.overlaps()).as("overlaps under a file lock: " + locked.note()).isZero();
            assertThat(locked.errors()).as(locked.note()).isZero();
            assertThat(locked.stuck()).isZero();
            assertThat(locked.ops()).isPositive();
            assertThat(locked.latencies()).isNotNull();
            assertThat(locked.latencies().getTotalCount()).isEqualTo(locked.ops());
            assertThat(locked.unit()).isEqualTo(CrossProcess.JAIN);
            assertThat(locked.value()).isBetween(1.0 / locked.threads(), 1.0);

            Result multi = workers.measure(1, "W8", "local", WorkerMain.FILE_LOCK, TIMING, false);
            assertThat(multi.overlaps()).isZero();
            assertThat(multi.errors()).as(multi.note()).isZero();
            assertThat(multi.variant()).isEqualTo("sorted");
            assertThat(multi.threads()).isEqualTo(2 * CrossProcess.W8_THREADS);
        }
    }
}
