package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ReportTest {

    private static Result rate(int run, String workload, String backend, String contender, boolean ours,
            String variant, double opsPerSec, double p99) {
        return new Result(run, workload, backend, contender, ours, variant, 1, (long) opsPerSec, opsPerSec, p99 / 2,
                p99, p99 * 2, p99 * 3, 0, 0, 0, Double.NaN, "", "");
    }

    @Test
    void csv_readsBackWhatItWrote_withQuotesAndEmptyFigures() {
        Result r = new Result(2, "W4", "lp_redis", "RedissonMultiLock", false, "caller order", 4, 0, 0.5, Double.NaN,
                1.25, 2.5, 3.75, 1, 2, 3, Double.NaN, "", "first error: \"x\", y");
        Result back = Result.parseCsv(r.csv());
        assertThat(back.workload()).isEqualTo("W4");
        assertThat(back.note()).isEqualTo(r.note());
        assertThat(back.p50()).isNaN();
        assertThat(back.p99()).isEqualTo(1.25);
        assertThat(back.stuck()).isEqualTo(3);
        assertThat(back.csv()).isEqualTo(r.csv());
    }

    @Test
    void aMultiLineFirstError_staysOnOneCsvLine() {
        // PostgreSQL's errors come with Detail and Hint lines; results.csv is read back line by line (--report).
        Runner.Measurement m = new Runner.Measurement(1, 1, new Histogram(3), 1,
                "PSQLException: ERROR: deadlock detected\n  Detail: Process 1 waits\nProcess 2 waits\n  Hint: see", 0, 0,
                0, List.of(1L));
        Result r = Result.of(1, "W4", "lp_postgres", "advisory lock floor", false, "caller order", 4, m, 0, "");
        assertThat(r.csv()).doesNotContain("\n").doesNotContain("\r");
        assertThat(r.note()).isEqualTo("first error: PSQLException: ERROR: deadlock detected Detail: Process 1 waits"
                + " Process 2 waits Hint: see");
        assertThat(Result.parseCsv(r.csv()).note()).isEqualTo(r.note());
    }

    @Test
    void merge_addsUpTheSlices_rateOverTheirWindows_percentilesOverAllLatencies() {
        Histogram fast = new Histogram(3);
        for (int i = 0; i < 99; i++) {
            fast.recordValue(1_000); // 1 µs
        }
        Histogram slow = new Histogram(3);
        slow.recordValue(1_000_000); // 1 ms
        Result a = new Result(1, "W3", "lp_redis", "lp_redis", true, "", 8, 99, 99, 1, 1, 1, 1, 0, 0, 0,
                Double.NaN, "", "", fast);
        Result b = new Result(1, "W3", "lp_redis", "lp_redis", true, "", 8, 1, 1, 1000, 1000, 1000, 1000, 2, 1, 1,
                Double.NaN, "", "first error: x", slow);

        Result merged = Result.merge(List.of(a, b), 1.0);

        assertThat(merged.ops()).isEqualTo(100);
        assertThat(merged.opsPerSec()).isEqualTo(50.0); // 100 operations in two 1 s windows
        assertThat(merged.p50()).isCloseTo(1.0, offset(0.01));
        assertThat(merged.max()).isCloseTo(1000.0, offset(1.0));
        assertThat(merged.overlaps()).isEqualTo(2);
        assertThat(merged.errors()).isEqualTo(1);
        assertThat(merged.stuck()).isEqualTo(1);
        assertThat(merged.note()).isEqualTo("first error: x");
        assertThat(merged.contender()).isEqualTo("lp_redis");
        assertThat(merged.latencies()).isNotNull();
        assertThat(Result.parseCsv(merged.csv()).latencies()).as("not in the CSV").isNull();
    }

    @Test
    void median_ofOddAndEvenCounts_ignoringNaN() {
        assertThat(Report.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
        assertThat(Report.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
        assertThat(Report.median(List.of(Double.NaN, 5.0))).isEqualTo(5.0);
        assertThat(Report.median(List.of())).isNaN();
    }

    @Test
    void ratio_isTakenInsideEachRun_thenTheMedian() {
        List<Result> results = new ArrayList<>();
        // Run 1 is slow for both, run 3 fast for both: per-run ratios are 2, 3, 2.5; medians of rates would give 2.5.
        results.add(rate(1, "W1", "lp_redis", "lp_redis", true, "", 200, 10));
        results.add(rate(1, "W1", "lp_redis", "Redisson RLock", false, "", 100, 10));
        results.add(rate(2, "W1", "lp_redis", "lp_redis", true, "", 3000, 10));
        results.add(rate(2, "W1", "lp_redis", "Redisson RLock", false, "", 1000, 10));
        results.add(rate(3, "W1", "lp_redis", "lp_redis", true, "", 5000, 10));
        results.add(rate(3, "W1", "lp_redis", "Redisson RLock", false, "", 2000, 10));
        Report report = new Report(results);
        assertThat(report.ratio("W1", "lp_redis", "", "Redisson RLock", "", Result::opsPerSec)).isEqualTo(2.5);
        assertThat(report.pairs("W1", "lp_redis", "", "Redisson RLock", "")).isEqualTo(3);
        assertThat(report.row("W1", "lp_redis", "lp_redis", "")).get().extracting(Report.Row::opsPerSec)
                .isEqualTo(3000.0);
        Report.Target target = report.targets().get(0);
        assertThat(target.name()).contains("lp_redis W1 >= 1.25x Redisson RLock");
        assertThat(target.figure()).isEqualTo("2.50x");
        assertThat(target.met()).isTrue();
        assertThat(report.comparisonTable()).contains("| W1 | lp_redis | 3,000 |").contains("2.50x");
    }

    @Test
    void targets_judgeLatencyRatiosAndSingleFigures() {
        List<Result> results = new ArrayList<>();
        results.add(rate(1, "W3", "lp_hazelcast", "lp_hazelcast", true, "", 100, 5000));
        results.add(rate(1, "W3", "lp_hazelcast", "Hazelcast IMap.lock", false, "", 1000, 1000));
        results.add(Result.figure(1, "W6", "lp_memory", "lp_memory", true, "held, 1,000 locks", null, 150, "B/lock",
                ""));
        results.add(Result.figure(1, "W6", "lp_memory", "lp_memory", true, "after release", null, 4000, "B", ""));
        Report report = new Report(results);
        assertThat(report.targets()).filteredOn(t -> t.name().startsWith("lp_hazelcast W3"))
                .singleElement().satisfies(t -> {
                    assertThat(t.figure()).isEqualTo("5.00x");
                    assertThat(t.met()).isFalse();
                });
        assertThat(report.targets()).filteredOn(t -> t.name().startsWith("lp_memory W6 <= 200"))
                .singleElement().satisfies(t -> assertThat(t.met()).isTrue());
        // 4,000 bytes left after releasing 1,000 locks is more than one byte per lock: not back to baseline.
        assertThat(report.targets()).filteredOn(t -> t.name().contains("back to baseline"))
                .singleElement().satisfies(t -> assertThat(t.met()).isFalse());
        assertThat(report.targets()).filteredOn(t -> t.name().startsWith("lp_zookeeper W1"))
                .singleElement().satisfies(t -> assertThat(t.verdict()).isEqualTo("not measured"));
        assertThat(report.figuresTable()).contains("150 B per lock");
    }

    @Test
    void postgresTargets_compareWithTheTableFloorAndJdbcLockRegistry() {
        String jdbc = PostgresPeers.JDBC_LOCK_REGISTRY;
        List<Result> results = new ArrayList<>();
        results.add(rate(1, "W1", "lp_postgres", "lp_postgres", true, "", 800, 10));
        results.add(rate(1, "W1", "lp_postgres", PostgresPeers.TABLE_FLOOR, false, "", 1000, 10));
        results.add(rate(1, "W1", "lp_postgres", jdbc, false, "", 500, 10));
        results.add(rate(1, "W3", "lp_postgres", "lp_postgres", true, "", 900, 1000));
        results.add(rate(1, "W3", "lp_postgres", jdbc, false, "", 100, 100_000));
        results.add(rate(1, "W4", "lp_postgres", "lp_postgres", true, "caller order", 900, 10));
        results.add(rate(1, "W4", "lp_postgres", jdbc + " per key", false, "sorted", 300, 10));
        results.add(rate(1, "W7", "lp_postgres", "lp_postgres", true, "", 1000, 30_000));
        results.add(rate(1, "W7", "lp_postgres", jdbc, false, "", 400, 100_000));
        Report report = new Report(results);
        assertThat(report.targets()).filteredOn(t -> t.name().startsWith("lp_postgres"))
                .extracting(t -> t.name() + ": " + t.figure() + " " + t.verdict())
                .containsExactly(
                        "lp_postgres W1 >= 0.85x the table floor (INSERT ON CONFLICT + DELETE): 0.80x missed",
                        "lp_postgres W1 >= 2x JdbcLockRegistry: 1.60x missed",
                        "lp_postgres W3 p99 wait <= 1/5 of JdbcLockRegistry's: 0.01x met",
                        "lp_postgres W4 (caller order) >= 2x JdbcLockRegistry per key (sorted): 3.00x met",
                        "lp_postgres W7 >= 2x JdbcLockRegistry: 2.50x met",
                        "lp_postgres W7 p99 wait <= 1/5 of JdbcLockRegistry's: 0.30x missed");
        assertThat(report.targets()).filteredOn(t -> t.name().startsWith("W5 releaseAll(owner) <= 10 ms on lp_postgres"))
                .singleElement().satisfies(t -> assertThat(t.verdict()).isEqualTo("not measured"));
    }

    @Test
    void problems_listOverlapsErrorsAndStuckThreads() {
        Result clean = rate(1, "W3", "lp_memory", "lp_memory", true, "", 10, 1);
        Result bad = new Result(1, "W4", "lp_redis", "RedissonMultiLock", false, "caller order", 4, 0, 0,
                Double.NaN, Double.NaN, Double.NaN, Double.NaN, 1, 2, 3, Double.NaN, "", "first error: x");
        Report report = new Report(List.of(clean, bad));
        assertThat(report.problems()).singleElement().asString()
                .contains("RedissonMultiLock (caller order): 1 overlaps, 2 errors, 3 threads stuck");
        assertThat(report.overlapsSeen()).isTrue();
        assertThat(Report.describe(bad)).contains("[1 overlaps, 2 errors, 3 stuck]");
    }

    @Test
    void crossProcessTable_showsFairnessAndTheLongestWaitNextToThroughput() {
        Result fair = rate(1, "W7", "lp_redis", "Redisson fair lock", false, "", 300, 90_000)
                .withFigure(0.999, CrossProcess.JAIN);
        Result unfair = rate(1, "W7", "lp_redis", "lp_redis", true, "", 600, 30_000).withFigure(0.5, CrossProcess.JAIN);
        Report report = new Report(List.of(fair, unfair));
        String table = report.crossProcessTable();
        assertThat(table).contains("| W7 | lp_redis | Redisson fair lock |").contains("| 0.999 |")
                .contains("| 0.500 |").contains("| 270.0 |"); // longest wait: max = 3 x p99 µs, in ms
        assertThat(report.targets()).filteredOn(t -> t.name().startsWith("W7 Jain's index"))
                .singleElement().satisfies(t -> {
                    assertThat(t.met()).isFalse();
                    assertThat(t.figure()).isEqualTo("lowest 0.500");
                });
        assertThat(report.comparisonTable()).contains("| W7 | lp_redis | 600 |");
    }
}
