package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchMainTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aMemoryOnlyRun_writesTheTableTheTargetsAndTheCharts() throws IOException {
        int status = BenchMain.run(out, "--backends", "memory", "--workloads", "W1,W3,W6", "--warmup", "20ms",
                "--measure", "100ms", "--w6-locks", "5000", "--out", dir.toString());
        assertThat(status).as(output()).isZero();
        String md = Files.readString(dir.resolve("results.md"));
        assertThat(md).contains("| W1 | lp_memory |").contains("ConcurrentHashMap+ReentrantLock")
                .contains("lp_memory W1 >= 1/3 of ConcurrentHashMap+ReentrantLock").contains("- Machine: ")
                .contains("- Command: `BenchMain --backends memory").contains("![w1.png](w1.png)");
        assertThat(Files.readAllLines(dir.resolve("results.csv"))).first().isEqualTo(Result.CSV_HEADER);
        assertThat(dir.resolve("w1.png")).isRegularFile();
        assertThat(dir.resolve("w6.png")).isRegularFile();
        assertThat(output()).contains("W3  lp_memory").contains("results in " + dir);

        Files.delete(dir.resolve("results.md"));
        Files.delete(dir.resolve("w1.png"));
        assertThat(BenchMain.run(out, "--report", dir.toString())).as(output()).isZero();
        assertThat(Files.readString(dir.resolve("results.md"))).isEqualTo(md);
        assertThat(dir.resolve("w1.png")).isRegularFile();
    }

    @Test
    void slices_measureTheContendersInTurn_andReportOneMergedResultEach() throws IOException {
        int status = BenchMain.run(out, "--backends", "memory", "--workloads", "W1,W4", "--warmup", "20ms",
                "--measure", "300ms", "--slices", "3", "--out", dir.toString());
        assertThat(status).as(output()).isZero();
        assertThat(output()).contains("in 3 slices taken in turn");
        List<Result> rows = Files.readAllLines(dir.resolve("results.csv")).stream().skip(1).map(Result::parseCsv)
                .toList();
        // W1: ours and the peer; W4: ours, each peer on sorted keys, each peer in the caller's order (once).
        // The fair ReentrantLock is a peer where threads wait only (W3, W4).
        assertThat(rows).extracting(r -> r.workload() + " " + r.contender() + " " + r.variant())
                .containsExactlyInAnyOrder("W1 lp_memory ", "W1 ConcurrentHashMap+ReentrantLock ",
                        "W4 lp_memory caller order", "W4 ReentrantLock per key sorted",
                        "W4 ReentrantLock per key caller order", "W4 fair ReentrantLock per key sorted",
                        "W4 fair ReentrantLock per key caller order");
        assertThat(rows).filteredOn(r -> r.workload().equals("W1")).allSatisfy(r -> {
            assertThat(r.ops()).isPositive();
            assertThat(r.opsPerSec()).isPositive();
        });
    }

    @Test
    void help_printsTheUsage_andABadArgumentExitsWithTwo() {
        assertThat(BenchMain.run(out, "--help")).isZero();
        assertThat(output()).contains("usage: BenchMain");
        assertThat(BenchMain.run(out, "--runs", "x")).isEqualTo(2);
        assertThat(output()).contains("--runs must be a positive number: x");
    }
}
