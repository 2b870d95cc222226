package dev.locking.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * Turns the results of several runs into what {@code docs/BENCHMARKS.md} shows: medians per contender,
 * ours-to-peer ratios taken inside each run and then their median, and each target of the issue judged
 * met or missed with its figure.
 */
final class Report {
    static final List<String> BACKENDS = List.of("lp_memory", "lp_redis", "lp_zookeeper", "lp_hazelcast",
            "lp_postgres");

    private final List<Result> results;

    Report(List<Result> results) {
        this.results = List.copyOf(results);
    }

    List<Result> results() {
        return results;
    }

    /** The median of the values that are numbers; NaN when there is none. */
    static double median(List<Double> values) {
        List<Double> v = values.stream().filter(d -> !d.isNaN()).sorted().collect(Collectors.toList());
        if (v.isEmpty()) {
            return Double.NaN;
        }
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }

    /** One contender in one workload, its figures as medians over the runs. */
    record Row(String workload, String backend, String contender, boolean ours, String variant, int runs,
            double opsPerSec, double p50, double p99, double p999, double value, String unit, long overlaps,
            long errors, int stuck, String notes, double max) {}

    /** The median row of every contender, in the order first seen. */
    List<Row> rows() {
        Map<List<String>, List<Result>> groups = new LinkedHashMap<>();
        for (Result r : results) {
            groups.computeIfAbsent(List.of(r.workload(), r.backend(), r.contender(), r.variant()), k -> new ArrayList<>())
                    .add(r);
        }
        List<Row> rows = new ArrayList<>();
        for (List<Result> g : groups.values()) {
            Result first = g.get(0);
            String notes = g.stream().map(Result::note).filter(n -> !n.isEmpty()).distinct()
                    .collect(Collectors.joining("; "));
            rows.add(new Row(first.workload(), first.backend(), first.contender(), first.ours(), first.variant(),
                    g.size(), med(g, Result::opsPerSec), med(g, Result::p50), med(g, Result::p99), med(g, Result::p999),
                    med(g, Result::value), first.unit(), g.stream().mapToLong(Result::overlaps).sum(),
                    g.stream().mapToLong(Result::errors).sum(), g.stream().mapToInt(Result::stuck).sum(), notes,
                    med(g, Result::max)));
        }
        return rows;
    }

    private static double med(List<Result> g, ToDoubleFunction<Result> f) {
        List<Double> values = new ArrayList<>();
        for (Result r : g) {
            values.add(f.applyAsDouble(r));
        }
        return median(values);
    }

    Optional<Row> row(String workload, String backend, String contender, String variant) {
        return rows().stream().filter(r -> r.workload().equals(workload) && r.backend().equals(backend)
                && r.contender().equals(contender) && r.variant().equals(variant)).findFirst();
    }

    /**
     * The median over the runs of ours-to-peer, each taken inside one run: {@code f(ours) / f(peer)}.
     * NaN when no run has both.
     */
    double ratio(String workload, String backend, String oursVariant, String peer, String peerVariant,
            ToDoubleFunction<Result> f) {
        List<Double> ratios = new ArrayList<>();
        for (int run : runs()) {
            Result ours = find(run, workload, backend, backend, oursVariant);
            Result other = find(run, workload, backend, peer, peerVariant);
            if (ours != null && other != null) {
                double denominator = f.applyAsDouble(other);
                ratios.add(denominator == 0 ? Double.POSITIVE_INFINITY : f.applyAsDouble(ours) / denominator);
            }
        }
        return median(ratios);
    }

    /** How many runs had both sides of a ratio. */
    int pairs(String workload, String backend, String oursVariant, String peer, String peerVariant) {
        int n = 0;
        for (int run : runs()) {
            if (find(run, workload, backend, backend, oursVariant) != null
                    && find(run, workload, backend, peer, peerVariant) != null) {
                n++;
            }
        }
        return n;
    }

    List<Integer> runs() {
        return results.stream().map(Result::run).distinct().sorted().collect(Collectors.toList());
    }

    private @Nullable Result find(int run, String workload, String backend, String contender, String variant) {
        for (Result r : results) {
            if (r.run() == run && r.workload().equals(workload) && r.backend().equals(backend)
                    && r.contender().equals(contender) && r.variant().equals(variant)) {
                return r;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ targets

    /** A target of the issue and how it came out; {@code met} is null when it was not measured. */
    record Target(String name, String figure, @Nullable Boolean met) {
        String verdict() {
            return met == null ? "not measured" : met ? "met" : "missed";
        }
    }

    List<Target> targets() {
        List<Target> t = new ArrayList<>();
        ToDoubleFunction<Result> ops = Result::opsPerSec;
        ToDoubleFunction<Result> p99 = Result::p99;
        t.add(atLeast("lp_redis W1 >= 1.25x Redisson RLock", ratio("W1", "lp_redis", "", "Redisson RLock", "", ops), 1.25));
        t.add(atLeast("lp_redis W1 >= 0.85x the round-trip floor",
                ratio("W1", "lp_redis", "", "SET NX PX + delete script", "", ops), 0.85));
        t.add(atLeast("lp_redis W3 >= 1.5x Redisson RLock throughput",
                ratio("W3", "lp_redis", "", "Redisson RLock", "", ops), 1.5));
        t.add(atMost("lp_redis W3 p99 wait <= 1/3 of Redisson RLock's",
                ratio("W3", "lp_redis", "", "Redisson RLock", "", p99), 1.0 / 3));
        t.add(atLeast("lp_redis W4 (caller order) >= 2x RedissonMultiLock (sorted)",
                ratio("W4", "lp_redis", "caller order", "RedissonMultiLock", "sorted", ops), 2));
        t.add(atLeast("lp_zookeeper W1 >= 1.5x InterProcessMutex",
                ratio("W1", "lp_zookeeper", "", "Curator InterProcessMutex", "", ops), 1.5));
        t.add(atLeast("lp_zookeeper W4 (caller order) >= 2x InterProcessMultiLock (sorted)",
                ratio("W4", "lp_zookeeper", "caller order", "Curator InterProcessMultiLock", "sorted", ops), 2));
        t.add(atLeast("lp_hazelcast W1 >= 1.0x IMap.lock/unlock (same client)",
                ratio("W1", "lp_hazelcast", "", "Hazelcast IMap.lock", "", ops), 1.0));
        t.add(atMost("lp_hazelcast W3 p99 wait <= 2x IMap.lock's",
                ratio("W3", "lp_hazelcast", "", "Hazelcast IMap.lock", "", p99), 2));
        t.add(atLeast("lp_memory W1 >= 1/3 of ConcurrentHashMap+ReentrantLock",
                ratio("W1", "lp_memory", "", "ConcurrentHashMap+ReentrantLock", "", ops), 1.0 / 3));
        Optional<Row> w6 = rows().stream().filter(r -> r.workload().equals("W6") && r.ours()
                && r.variant().startsWith("held")).findFirst();
        t.add(w6.map(r -> new Target("lp_memory W6 <= 200 bytes per held lock (" + r.variant().substring(6) + ")",
                String.format(Locale.ROOT, "%.0f B/lock", r.value()), r.value() <= 200))
                .orElse(new Target("lp_memory W6 <= 200 bytes per held lock", "", null)));
        Optional<Row> w6after = row("W6", "lp_memory", "lp_memory", "after release");
        // Back to baseline: what is left is below one byte per lock released (noise of the heap reading).
        int w6count = w6.map(r -> parseCount(r.variant())).orElse(0);
        t.add(w6after.map(r -> new Target("lp_memory W6 heap back to baseline after release",
                String.format(Locale.ROOT, "%+,.0f B after releasing %,d locks", r.value(), w6count),
                r.value() <= Math.max(w6count, 1)))
                .orElse(new Target("lp_memory W6 heap back to baseline after release", "", null)));
        t.add(atLeast("lp_hazelcast W7 >= 1.0x IMap.lock", ratio("W7", "lp_hazelcast", "", "Hazelcast IMap.lock", "",
                ops), 1.0));
        t.add(atMost("lp_hazelcast W7 p99 wait <= 1.5x IMap.lock's", ratio("W7", "lp_hazelcast", "",
                "Hazelcast IMap.lock", "", p99), 1.5));
        t.add(atLeast("lp_zookeeper W7 >= 1.5x InterProcessMutex", ratio("W7", "lp_zookeeper", "",
                "Curator InterProcessMutex", "", ops), 1.5));
        t.add(atMost("lp_zookeeper W7 p99 wait <= InterProcessMutex's", ratio("W7", "lp_zookeeper", "",
                "Curator InterProcessMutex", "", p99), 1.0));
        t.add(atLeast("lp_redis W7 >= 2x Redisson RLock", ratio("W7", "lp_redis", "", "Redisson RLock", "", ops), 2));
        t.add(atMost("lp_redis W7 p99 wait <= 1/3 of Redisson RLock's", ratio("W7", "lp_redis", "",
                "Redisson RLock", "", p99), 1.0 / 3));
        postgresTargets(t);
        OptionalDouble leastFair = rows().stream().filter(r -> r.workload().equals("W7"))
                .mapToDouble(Row::value).filter(v -> !Double.isNaN(v)).min();
        t.add(new Target("W7 Jain's index >= 0.9 (every contender)", leastFair.isPresent()
                ? String.format(Locale.ROOT, "lowest %.3f", leastFair.getAsDouble()) : "",
                leastFair.isPresent() ? leastFair.getAsDouble() >= 0.9 : null));
        t.add(atLeast("lp_zookeeper W8 (caller order) >= 2x InterProcessMultiLock (sorted)", ratio("W8",
                "lp_zookeeper", "caller order", "Curator InterProcessMultiLock", "sorted", ops), 2));
        for (String backend : BACKENDS) {
            Optional<Row> w5 = rows().stream().filter(r -> r.workload().equals("W5") && r.backend().equals(backend))
                    .findFirst();
            t.add(w5.map(r -> new Target("W5 releaseAll(owner) <= 10 ms on " + backend + " (" + r.variant() + ")",
                    String.format(Locale.ROOT, "p50 %.2f ms, p99 %.2f ms", r.p50() / 1e3, r.p99() / 1e3),
                    r.p50() / 1e3 <= 10))
                    .orElse(new Target("W5 releaseAll(owner) <= 10 ms on " + backend, "", null)));
        }
        for (String backend : BACKENDS) {
            List<Result> w4 = results.stream().filter(r -> r.workload().equals("W4") && r.backend().equals(backend)
                    && r.ours()).collect(Collectors.toList());
            if (w4.isEmpty()) {
                t.add(new Target("W4 with unsorted keys never deadlocks on " + backend, "", null));
                continue;
            }
            boolean fine = w4.stream().allMatch(r -> r.ops() > 0 && r.stuck() == 0 && r.errors() == 0);
            double worst = w4.stream().mapToDouble(Result::max).max().orElse(Double.NaN);
            double least = w4.stream().mapToDouble(Result::opsPerSec).min().orElse(Double.NaN);
            t.add(new Target("W4 with unsorted keys never deadlocks on " + backend, String.format(Locale.ROOT,
                    "%d runs: lowest %,.0f cycles/s, longest wait %.1f ms, %d timeouts/errors, %d threads stuck",
                    w4.size(), least, worst / 1e3, w4.stream().mapToLong(Result::errors).sum(),
                    w4.stream().mapToInt(Result::stuck).sum()), fine));
        }
        long overlaps = results.stream().filter(r -> r.workload().equals("W3") || r.workload().equals("W4"))
                .mapToLong(Result::overlaps).sum();
        boolean anyW3 = results.stream().anyMatch(r -> r.workload().equals("W3"));
        t.add(new Target("W3/W4 zero overlaps (every contender)", overlaps + " overlaps", anyW3 ? overlaps == 0 : null));
        long across = results.stream().filter(r -> r.workload().equals("W7") || r.workload().equals("W8"))
                .mapToLong(Result::overlaps).sum();
        boolean anyW7 = results.stream().anyMatch(r -> r.workload().equals("W7") || r.workload().equals("W8"));
        t.add(new Target("W7/W8 zero overlaps across processes (every contender)", across + " overlaps",
                anyW7 ? across == 0 : null));
        return t;
    }

    /** Issue 13's targets for lp_postgres (its W5 target is among every provider's below). */
    private void postgresTargets(List<Target> t) {
        String jdbc = PostgresPeers.JDBC_LOCK_REGISTRY;
        t.add(atLeast("lp_postgres W1 >= 0.85x the table floor (" + PostgresPeers.TABLE_FLOOR + ")",
                ratio("W1", "lp_postgres", "", PostgresPeers.TABLE_FLOOR, "", Result::opsPerSec), 0.85));
        t.add(atLeast("lp_postgres W1 >= 2x " + jdbc, ratio("W1", "lp_postgres", "", jdbc, "", Result::opsPerSec), 2));
        t.add(atMost("lp_postgres W3 p99 wait <= 1/5 of " + jdbc + "'s",
                ratio("W3", "lp_postgres", "", jdbc, "", Result::p99), 1.0 / 5));
        t.add(atLeast("lp_postgres W4 (caller order) >= 2x " + jdbc + " per key (sorted)",
                ratio("W4", "lp_postgres", "caller order", jdbc + " per key", "sorted", Result::opsPerSec), 2));
        t.add(atLeast("lp_postgres W7 >= 2x " + jdbc, ratio("W7", "lp_postgres", "", jdbc, "", Result::opsPerSec), 2));
        t.add(atMost("lp_postgres W7 p99 wait <= 1/5 of " + jdbc + "'s",
                ratio("W7", "lp_postgres", "", jdbc, "", Result::p99), 1.0 / 5));
    }

    private static int parseCount(String variant) {
        String digits = variant.replaceAll("[^0-9]", "");
        return digits.isEmpty() ? 0 : Integer.parseInt(digits);
    }

    private static Target atLeast(String name, double ratio, double bound) {
        return new Target(name, Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2fx", ratio),
                Double.isNaN(ratio) ? null : ratio >= bound);
    }

    private static Target atMost(String name, double ratio, double bound) {
        return new Target(name, Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2fx", ratio),
                Double.isNaN(ratio) ? null : ratio <= bound);
    }

    // ------------------------------------------------------------------ markdown

    /** The comparison table: every peer row next to ours in the same workload and provider. */
    String comparisonTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| Workload | Provider | Locking ops/s | Locking p50 / p99 / p99.9 µs | Peer | Peer ops/s "
                + "| Peer p50 / p99 / p99.9 µs | ops/s ratio | p99 ratio |\n");
        sb.append("|---|---|---:|---:|---|---:|---:|---:|---:|\n");
        List<Row> rows = rows();
        for (String workload : List.of("W1", "W2", "W3", "W4", "W7", "W8")) {
            for (String backend : BACKENDS) {
                String oursVariant = workload.equals("W4") || workload.equals("W8") ? "caller order" : "";
                Row ours = rows.stream().filter(r -> r.workload().equals(workload) && r.backend().equals(backend)
                        && r.ours() && r.variant().equals(oursVariant)).findFirst().orElse(null);
                List<Row> peers = rows.stream().filter(r -> r.workload().equals(workload) && r.backend().equals(backend)
                        && !r.ours()).sorted(Comparator.comparing(Row::contender).thenComparing(Row::variant))
                        .collect(Collectors.toList());
                if (ours == null && peers.isEmpty()) {
                    continue;
                }
                if (peers.isEmpty()) {
                    sb.append(line(workload, backend, ours, null, Double.NaN, Double.NaN));
                }
                for (Row peer : peers) {
                    double opsRatio = ratio(workload, backend, oursVariant, peer.contender(), peer.variant(),
                            Result::opsPerSec);
                    double p99Ratio = ratio(workload, backend, oursVariant, peer.contender(), peer.variant(),
                            Result::p99);
                    sb.append(line(workload, backend, ours, peer, opsRatio, p99Ratio));
                }
            }
        }
        return sb.toString();
    }

    private static String line(String workload, String backend, @Nullable Row ours, @Nullable Row peer,
            double opsRatio, double p99Ratio) {
        String w = workload + (ours != null && !ours.variant().isEmpty() ? " (" + ours.variant() + ")" : "");
        return "| " + w + " | " + backend + " | " + (ours == null ? "—" : ops(ours)) + " | "
                + (ours == null ? "—" : latencies(ours)) + " | "
                + (peer == null ? "—" : peer.contender() + (peer.variant().isEmpty() ? "" : " (" + peer.variant() + ")"))
                + " | " + (peer == null ? "—" : ops(peer)) + " | " + (peer == null ? "—" : latencies(peer)) + " | "
                + x(opsRatio) + " | " + x(p99Ratio) + " |\n";
    }

    private static String ops(Row r) {
        String s = String.format(Locale.ROOT, "%,.0f", r.opsPerSec());
        if (r.stuck() > 0 || r.errors() > 0) {
            s += " ⚠";
        }
        return s;
    }

    private static String latencies(Row r) {
        return fmt(r.p50()) + " / " + fmt(r.p99()) + " / " + fmt(r.p999());
    }

    static String fmt(double micros) {
        if (Double.isNaN(micros)) {
            return "—";
        }
        if (micros >= 100) {
            return String.format(Locale.ROOT, "%,.0f", micros);
        }
        return String.format(Locale.ROOT, "%.1f", micros);
    }

    static String x(double ratio) {
        if (Double.isInfinite(ratio)) {
            return "∞ (peer 0)";
        }
        return Double.isNaN(ratio) ? "—" : String.format(Locale.ROOT, "%.2fx", ratio);
    }

    /**
     * W7 and W8, across processes: every contender with its rate, its waits, the longest wait and (W7) how
     * evenly the threads got in, so a fair lock that is slower and an unfair one that starves threads are both
     * visible.
     */
    String crossProcessTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| Workload | Provider | Contender | JVMs x threads | ops/s | wait p50 / p99 / p99.9 µs "
                + "| longest wait ms | Jain's index | overlaps |\n|---|---|---|---|---:|---:|---:|---:|---:|\n");
        for (Row r : rows()) {
            if (!r.workload().equals("W7") && !r.workload().equals("W8")) {
                continue;
            }
            String shape = r.notes().contains(" JVMs x ") ? r.notes().substring(0, r.notes().indexOf(" threads"))
                    .replace(" JVMs", "") : "—";
            sb.append("| ").append(r.workload()).append(r.variant().isEmpty() ? "" : " (" + r.variant() + ")")
                    .append(" | ").append(r.backend()).append(" | ").append(r.contender()).append(" | ").append(shape)
                    .append(" | ").append(ops(r)).append(" | ").append(latencies(r)).append(" | ")
                    .append(Double.isNaN(r.max()) ? "—" : String.format(Locale.ROOT, "%.1f", r.max() / 1e3))
                    .append(" | ").append(Double.isNaN(r.value()) ? "—" : String.format(Locale.ROOT, "%.3f", r.value()))
                    .append(" | ").append(r.overlaps()).append(" |\n");
        }
        return sb.toString();
    }

    /** W5 and W6, which are single figures. */
    String figuresTable() {
        StringBuilder sb = new StringBuilder();
        sb.append("| Workload | Provider | Contender | Condition | Figure |\n|---|---|---|---|---:|\n");
        for (Row r : rows()) {
            if (r.workload().equals("W5")) {
                sb.append("| W5 releaseAll(owner of 10) | ").append(r.backend()).append(" | ").append(r.contender())
                        .append(" | ").append(r.variant()).append(" | ")
                        .append(String.format(Locale.ROOT, "p50 %.2f ms, p99 %.2f ms", r.p50() / 1e3, r.p99() / 1e3))
                        .append(" |\n");
            } else if (r.workload().equals("W6")) {
                sb.append("| W6 heap | ").append(r.backend()).append(" | ").append(r.contender()).append(" | ")
                        .append(r.variant()).append(" | ")
                        .append(r.unit().equals("B/lock") ? String.format(Locale.ROOT, "%.0f B per lock", r.value())
                                : String.format(Locale.ROOT, "%+,.0f B vs. before", r.value()))
                        .append(" |\n");
            }
        }
        return sb.toString();
    }

    String targetsTable() {
        StringBuilder sb = new StringBuilder("| Target | Measured (median of runs) | Verdict |\n|---|---|---|\n");
        for (Target t : targets()) {
            sb.append("| ").append(t.name()).append(" | ").append(t.figure().isEmpty() ? "—" : t.figure()).append(" | ")
                    .append(t.verdict()).append(" |\n");
        }
        return sb.toString();
    }

    /** Problems that make numbers untrustworthy: overlaps, errors, stuck threads; one line each. */
    List<String> problems() {
        List<String> p = new ArrayList<>();
        for (Result r : results) {
            if (!r.clean()) {
                p.add(String.format(Locale.ROOT, "run %d %s %s %s%s: %d overlaps, %d errors, %d threads stuck%s",
                        r.run(), r.workload(), r.backend(), r.contender(),
                        r.variant().isEmpty() ? "" : " (" + r.variant() + ")", r.overlaps(), r.errors(), r.stuck(),
                        r.note().isEmpty() ? "" : " — " + r.note()));
            }
        }
        return p;
    }

    boolean overlapsSeen() {
        return results.stream().anyMatch(r -> r.overlaps() > 0);
    }

    static String describe(Result r) {
        if (r.workload().equals("W6")) {
            return String.format(Locale.ROOT, "%-3s %-13s %-34s %-22s %s", r.workload(), r.backend(), r.contender(),
                    r.variant(), r.unit().equals("B/lock") ? String.format(Locale.ROOT, "%.0f B/lock", r.value())
                            : String.format(Locale.ROOT, "%+,.0f B", r.value()));
        }
        if (r.workload().equals("W5")) {
            return String.format(Locale.ROOT, "%-3s %-13s %-34s %-22s releaseAll p50 %.2f ms p99 %.2f ms",
                    r.workload(), r.backend(), r.contender(), r.variant(), r.p50() / 1e3, r.p99() / 1e3);
        }
        String flags = r.clean() ? "" : String.format(Locale.ROOT, "  [%d overlaps, %d errors, %d stuck]",
                r.overlaps(), r.errors(), r.stuck());
        String fairness = r.unit().equals(CrossProcess.JAIN) ? String.format(Locale.ROOT,
                "  max %.1f ms  Jain %.3f", r.max() / 1e3, r.value()) : "";
        return String.format(Locale.ROOT, "%-3s %-13s %-34s %-12s %,12.0f ops/s  p50 %8s  p99 %8s  p99.9 %8s µs%s%s",
                r.workload(), r.backend(), r.contender(), r.variant(), r.opsPerSec(), fmt(r.p50()), fmt(r.p99()),
                fmt(r.p999()), fairness, flags) + (r.note().isEmpty() || r.clean() ? "" : "  " + r.note());
    }

    static String nullToDash(@Nullable String s) {
        return Objects.requireNonNullElse(s, "—");
    }
}
