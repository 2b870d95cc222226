package dev.locking.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {
    @TempDir
    Path dir;

    private static Result rate(String workload, String backend, String contender, boolean ours, String variant,
            double opsPerSec) {
        return new Result(1, workload, backend, contender, ours, variant, 1, (long) opsPerSec, opsPerSec, 100, 200,
                300, 400, 0, 0, 0, Double.NaN, "", "");
    }

    @Test
    void write_drawsAPngPerWorkload_fromTheMedians() throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Result> results = new ArrayList<>();
        for (String w : List.of("W1", "W2", "W3")) {
            results.add(rate(w, "lp_memory", "lp_memory", true, "", 1_000_000));
            results.add(rate(w, "lp_memory", "ConcurrentHashMap+ReentrantLock", false, "", 3_000_000));
            results.add(rate(w, "lp_redis", "lp_redis", true, "", 5_000));
            results.add(rate(w, "lp_redis", "Redisson RLock", false, "", 4_000));
        }
        results.add(rate("W4", "lp_redis", "lp_redis", true, "caller order", 3_000));
        results.add(rate("W4", "lp_redis", "RedissonMultiLock", false, "sorted", 900));
        results.add(rate("W4", "lp_redis", "RedissonMultiLock", false, "caller order", 0));
        results.add(Result.figure(1, "W5", "lp_redis", "lp_redis", true, "100,000 other locks held", null, 0.3, "ms",
                ""));
        results.add(Result.figure(1, "W6", "lp_memory", "lp_memory", true, "held, 1,000 locks", null, 150, "B/lock",
                ""));
        List<Path> written = Charts.write(new Report(results), dir);
        assertThat(written).extracting(p -> p.getFileName().toString())
                .containsExactly("w1.png", "w2.png", "w3-throughput.png", "w3-p99-wait.png", "w4.png", "w5.png",
                        "w6.png");
        for (Path png : written) {
            byte[] head = new byte[8];
            try (var in = Files.newInputStream(png)) {
                assertThat(in.read(head)).isEqualTo(8);
            }
            assertThat(head).startsWith(0x89, 'P', 'N', 'G');
            assertThat(Files.size(png)).isGreaterThan(1_000);
        }
    }

    @Test
    void write_laysOutThreeProvidersInOneRow() throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Result> results = new ArrayList<>();
        for (String b : List.of("lp_redis", "lp_zookeeper", "lp_hazelcast")) {
            results.add(rate("W2", b, b, true, "", 1_000));
            results.add(rate("W2", b, "peer", false, "", 2_000));
        }
        assertThat(Charts.write(new Report(results), dir)).extracting(p -> p.getFileName().toString())
                .containsExactly("w2.png");
    }

    @Test
    void bars_putOursFirst_andNameTheVariant() {
        List<Report.Row> rows = new Report(List.of(
                rate("W4", "lp_redis", "RedissonMultiLock", false, "sorted", 900),
                rate("W4", "lp_redis", "lp_redis", true, "caller order", 3_000))).rows();
        assertThat(Charts.bars(rows, "W4", "lp_redis", Report.Row::opsPerSec)).extracting(Charts.Bar::label)
                .containsExactly("lp_redis, caller order", "RedissonMultiLock, sorted");
    }
}
