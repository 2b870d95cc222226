package dev.locking.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The command line of {@link BenchMain}. {@code --quick} (the default) is the pass {@code ./locking bench}
 * runs, about a minute; {@code --full} is what {@code docs/BENCHMARKS.md} quotes.
 */
record BenchOptions(boolean full, int runs, boolean prewarm, Runner.Timing timing, int slices, Set<String> backends,
        Set<String> workloads, int w5Others, int w5WarmupReps, int w5Reps, int w6Locks, Path out, boolean report,
        List<String> args, int jvms) {

    static final Set<String> ALL_BACKENDS = Set.of("memory", "redis", "zookeeper", "hazelcast", "postgres");
    static final Set<String> ALL_WORKLOADS = Set.of("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8");
    /** W7 and W8 start worker JVMs per backend and run: the quick pass leaves them out unless asked for. */
    static final List<String> QUICK_WORKLOADS = List.of("W1", "W2", "W3", "W4", "W5", "W6");

    static final String USAGE = """
            usage: BenchMain [--quick | --full] [options]
              --quick              about a minute: warm-up 0.3 s and 1,000 operations (at most 1.3 s),
                                 then 0.7 s measured per contender, one run,
                                   W5 with 10,000 other locks, W6 with 200,000 locks (the default)
              --full               warm-up 2 s and 10,000 operations (at most 12 s), then 5 s measured in
                                   5 slices taken in turn with the other contenders of the workload,
                                   3 runs, W5 with 100,000 other locks, W6 with 1,000,000 locks, and
                                   the cross-process workloads W7 and W8
              --runs N             how many runs (medians are taken over them)
              --prewarm            before run 1, one unrecorded pass of W1-W4 with short windows, so every
                                   JVM (this one and the servers') has compiled its hot paths (default with --full)
              --no-prewarm         no such pass
              --warmup D           least warm-up before each measurement (500ms, 2s, PT2S)
              --measure D          measured window of each measurement
              --slices N           measure W1-W4 in N slices per contender, the contenders of a workload
                                   taking turns slice by slice, so a machine that changes speed for a while
                                   slows all of them alike (default: 5 with --full, 1 with --quick)
              --backends LIST      comma-separated, of memory,redis,zookeeper,hazelcast,postgres
                                   (default: memory,redis,zookeeper,hazelcast); postgres uses the server
                                   POSTGRES_URL names (a jdbc:postgresql:// URL; POSTGRES_USER and
                                   POSTGRES_PASSWORD for the login), else starts a throwaway one with
                                   Debian's initdb/pg_ctl (package postgresql) on a free port
              --workloads LIST     comma-separated, of W1..W8 (default: W1..W6 with --quick, all with --full);
                                   W7 and W8 run in worker JVMs, on redis, zookeeper, hazelcast and
                                   postgres only
              --jvms N             worker JVMs of W7 and W8 (default 4)
              --w5-others N        locks of other owners held during W5
              --w5-reps N          measured releaseAll calls per run in W5
              --w6-locks N         locks held in W6
              --out DIR            where results.csv, results.md and the charts go
                                   (default: a new directory under the system temp directory)
              --report DIR         measure nothing: draw results.md and the charts again from DIR/results.csv""";

    static BenchOptions parse(String... argv) {
        boolean full = false;
        Integer runs = null;
        Boolean prewarm = null;
        Duration warmup = null;
        Duration measure = null;
        Set<String> backends = new LinkedHashSet<>(List.of("memory", "redis", "zookeeper", "hazelcast"));
        Set<String> workloads = null;
        Integer jvms = null;
        Integer w5Others = null;
        Integer w5Reps = null;
        Integer w6Locks = null;
        Integer slices = null;
        Path out = null;
        boolean report = false;
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            switch (a) {
                case "--quick" -> full = false;
                case "--full" -> full = true;
                case "--runs" -> runs = positive(a, value(argv, ++i, a));
                case "--prewarm" -> prewarm = true;
                case "--no-prewarm" -> prewarm = false;
                case "--warmup" -> warmup = duration(a, value(argv, ++i, a), true);
                case "--measure" -> measure = duration(a, value(argv, ++i, a), false);
                case "--backends" -> backends = set(a, value(argv, ++i, a), ALL_BACKENDS, false);
                case "--workloads" -> workloads = set(a, value(argv, ++i, a), ALL_WORKLOADS, true);
                case "--w5-others" -> w5Others = positive(a, value(argv, ++i, a));
                case "--w5-reps" -> w5Reps = positive(a, value(argv, ++i, a));
                case "--w6-locks" -> w6Locks = positive(a, value(argv, ++i, a));
                case "--slices" -> slices = positive(a, value(argv, ++i, a));
                case "--jvms" -> jvms = positive(a, value(argv, ++i, a));
                case "--out" -> out = Path.of(value(argv, ++i, a));
                case "--report" -> {
                    report = true;
                    out = Path.of(value(argv, ++i, a));
                }
                default -> throw new IllegalArgumentException("unknown argument: " + a);
            }
        }
        if (workloads == null) {
            workloads = new LinkedHashSet<>(QUICK_WORKLOADS);
            if (full) {
                workloads.addAll(List.of("W7", "W8"));
            }
        }
        Duration w = warmup != null ? warmup : full ? Duration.ofSeconds(2) : Duration.ofMillis(300);
        Duration m = measure != null ? measure : full ? Duration.ofSeconds(5) : Duration.ofMillis(700);
        Duration grace = full ? Duration.ofSeconds(2) : Duration.ofMillis(300);
        long warmupOps = full ? 10_000 : 1_000;
        Duration maxWarmup = full ? Duration.ofSeconds(10).plus(w) : Duration.ofSeconds(1).plus(w);
        if (out == null) {
            out = Path.of(System.getProperty("java.io.tmpdir"), "locking-bench-"
                    + LocalDateTime.now(java.time.ZoneId.systemDefault()).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT)));
        }
        return new BenchOptions(full, runs != null ? runs : full ? 3 : 1, prewarm != null ? prewarm : full,
                new Runner.Timing(w, m, grace, warmupOps, maxWarmup), slices != null ? slices : full ? 5 : 1, backends,
                workloads, w5Others != null ? w5Others : full ? 100_000 : 10_000, full ? 10 : 5,
                w5Reps != null ? w5Reps : full ? 100 : 20, w6Locks != null ? w6Locks : full ? 1_000_000 : 200_000, out,
                report, List.of(argv), jvms != null ? jvms : 4);
    }

    /** The options of the pre-warm pass: W1-W4 with short windows. */
    BenchOptions prewarmOptions() {
        Set<String> w = new LinkedHashSet<>(workloads);
        w.retainAll(Set.of("W1", "W2", "W3", "W4"));
        Runner.Timing t = new Runner.Timing(Duration.ofMillis(500), Duration.ofSeconds(1), timing.grace(), 2_000,
                Duration.ofSeconds(3));
        return new BenchOptions(full, 1, false, t, 1, backends, w, w5Others, w5WarmupReps, w5Reps, w6Locks, out, false,
                args, jvms);
    }

    boolean backend(String name) {
        return backends.contains(name);
    }

    boolean workload(String name) {
        return workloads.contains(name);
    }

    private static String value(String[] argv, int i, String option) {
        if (i >= argv.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return argv[i];
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value.replace("_", "").replace(",", ""));
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + " must be a positive number: " + value);
    }

    static Duration duration(String option, String value, boolean zeroAllowed) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        Duration d;
        try {
            if (v.startsWith("pt")) {
                d = Duration.parse(v.toUpperCase(Locale.ROOT));
            } else if (v.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            } else if (v.endsWith("s")) {
                d = Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
            } else {
                d = Duration.ofMillis(Long.parseLong(v));
            }
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(option + " must be a duration such as 500ms, 2s or PT2S: " + value, e);
        }
        if (d.isNegative() || (!zeroAllowed && d.isZero())) {
            throw new IllegalArgumentException(option + " must be " + (zeroAllowed ? "zero or more" : "positive")
                    + ": " + value);
        }
        return d;
    }

    private static Set<String> set(String option, String value, Set<String> allowed, boolean upper) {
        Set<String> chosen = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String p = upper ? part.trim().toUpperCase(Locale.ROOT) : part.trim().toLowerCase(Locale.ROOT);
            if (p.startsWith("lp_")) {
                p = p.substring(3);
            }
            if (allowed.contains(p)) {
                chosen.add(p);
            } else {
                unknown.add(part);
            }
        }
        if (!unknown.isEmpty() || chosen.isEmpty()) {
            throw new IllegalArgumentException(option + ": unknown " + unknown + "; choose from " + allowed);
        }
        return chosen;
    }
}
