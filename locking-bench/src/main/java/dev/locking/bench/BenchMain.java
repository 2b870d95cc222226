package dev.locking.bench;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import dev.locking.hazelcast.HazelcastProviderFactory;
import dev.locking.redis.RedisProviderFactory;
import dev.locking.zookeeper.ZookeeperProviderFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.apache.curator.framework.CuratorFramework;
import org.jspecify.annotations.Nullable;
import org.redisson.api.RedissonClient;

/**
 * The bench: starts the backends (each in a process of its own), measures every Locking provider and the
 * libraries a user would pick instead on the same backend in the same run, and writes {@code results.csv},
 * {@code results.md} and PNG charts.
 *
 * <h2>Running it</h2>
 * <pre>{@code
 * ./locking bench                              # the quick pass, about a minute
 * java -cp <classpath> dev.locking.bench.BenchMain --full --out docs/bench   # what BENCHMARKS.md quotes
 * ./locking bench --backends postgres          # PostgreSQL: POSTGRES_URL's server, or a throwaway one
 * }</pre>
 * See {@code --help} for every option. The exit status is 0 when every measurement completed, 1 when a
 * lock let two holders in at once (an overlap) or a backend could not be started, 2 for a bad argument.
 */
public final class BenchMain {
    static final String REDIS_PEER_PREFIX = "bench:";
    static final String ZOOKEEPER_PEER_ROOT = "/bench-peer";
    static final String HAZELCAST_PEER_MAP = "bench-peer";
    static final String POSTGRES_ID = "lp_postgres";
    /** lp_postgres's table in the bench, out of the way of an application's {@code locking_locks}. */
    static final String POSTGRES_TABLE = "locking_bench_locks";

    private BenchMain() {}

    /**
     * Runs the bench.
     *
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        System.exit(run(System.out, args));
    }

    /**
     * Runs the bench and returns the exit status instead of exiting, so it can be called in-process (by the
     * {@code locking} command or a test).
     *
     * @param out  where progress and the summary go
     * @param args see {@code --help}
     * @return 0 on success, 1 on a failed measurement, 2 on a bad argument
     */
    public static int run(PrintStream out, String... args) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.println(BenchOptions.USAGE);
            return 0;
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            out.println(e.getMessage());
            out.println(BenchOptions.USAGE);
            return 2;
        }
        quietDefaults();
        try {
            if (options.report()) {
                return report(out, options);
            }
            return bench(out, options);
        } catch (RuntimeException | IOException e) {
            out.println("bench failed: " + e);
            e.printStackTrace(out);
            return 1;
        }
    }

    /** Logging at WARN unless told otherwise, no GUI, no phoning home. */
    static void quietDefaults() {
        System.setProperty("java.awt.headless", "true");
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        // Building a service with lp_memory as default while distributed providers exist warns; that is the point here.
        setIfAbsent("org.slf4j.simpleLogger.log.dev.locking.core.ProviderSetup", "error");
        // When the runner interrupts a peer still waiting in IMap.tryLock at the end of a window, the client
        // warns about the late answer to the interrupted call; that is expected here.
        setIfAbsent("org.slf4j.simpleLogger.log.com.hazelcast.client.impl.spi.ClientInvocationService", "error");
        setIfAbsent("hazelcast.logging.type", "slf4j");
        setIfAbsent("hazelcast.phone.home.enabled", "false");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    static int bench(PrintStream out, BenchOptions o) {
        long started = System.nanoTime();
        Environment env = Environment.capture(o);
        out.printf(Locale.ROOT, "Locking bench (%s): %d run(s); per measurement a warm-up of %s and %,d operations"
                + " (at most %s), then %s measured%s; load average %.2f%n", o.full() ? "full" : "quick", o.runs(),
                human(o.timing().warmup()), o.timing().warmupOps(), human(o.timing().maxWarmup()),
                human(o.timing().measure()), o.slices() > 1 ? " in " + o.slices()
                        + " slices taken in turn with the workload's other contenders (W1-W4)" : "",
                env.loadBefore());
        boolean distributed = o.backend("redis") || o.backend("zookeeper") || o.backend("hazelcast")
                || o.backend("postgres");
        if ((o.workload("W7") || o.workload("W8")) && distributed) {
            out.printf(Locale.ROOT, "W7/W8: %d worker JVMs per backend, a fixed warm-up of %s, one window per"
                    + " contender%n", o.jvms(), human(o.timing().warmup()));
        }
        List<Result> results = new ArrayList<>();
        try (Backends backends = distributed ? Backends.start(o.backend("redis"), o.backend("zookeeper"),
                o.backend("hazelcast"), o.backend("postgres")) : null) {
            if (backends != null) {
                out.printf(Locale.ROOT, "backends started in %.1f s (logs in %s)%n",
                        (System.nanoTime() - started) / 1e9, backends.dir());
                if (backends.postgresLogin != null) {
                    out.println("PostgreSQL: " + backends.postgresLogin + (PostgresServer.providerOnClasspath() ? ""
                            : "; lp_postgres is not on the classpath, so only its peers are measured"));
                }
            }
            try (LockingService locking = service(backends)) {
                Map<String, List<Contender>> byBackend = contenders(locking, backends, o);
                if (o.prewarm()) {
                    out.println("-- pre-warm pass (not recorded)");
                    runOnce(new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8),
                            o.prewarmOptions(), 0, locking, byBackend, backends, new ArrayList<>());
                }
                for (int run = 1; run <= o.runs(); run++) {
                    out.println("-- run " + run + " of " + o.runs());
                    runOnce(out, o, run, locking, byBackend, backends, results);
                }
            }
        }
        Report report = new Report(results);
        try {
            Files.createDirectories(o.out());
            String environment = env.finish().markdown();
            Files.writeString(o.out().resolve("environment.md"), environment, StandardCharsets.UTF_8);
            List<String> csv = new ArrayList<>();
            csv.add(Result.CSV_HEADER);
            report.results().forEach(r -> csv.add(r.csv()));
            Files.write(o.out().resolve("results.csv"), csv, StandardCharsets.UTF_8);
            write(out, o.out(), o.runs(), environment, report);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the results to " + o.out(), e);
        }
        out.printf(Locale.ROOT, "done in %.0f s; results in %s%n", (System.nanoTime() - started) / 1e9, o.out());
        List<String> problems = report.problems();
        if (!problems.isEmpty()) {
            out.println("measurements that did not complete cleanly:");
            problems.forEach(p -> out.println("  " + p));
        }
        if (report.overlapsSeen()) {
            out.println("FAILED: a lock let two holders in at once (see the overlaps above)");
            return 1;
        }
        return 0;
    }

    /** Draws results.md and the charts again from the results.csv (and environment.md) in {@code --out}. */
    private static int report(PrintStream out, BenchOptions o) throws IOException {
        List<String> lines = Files.readAllLines(o.out().resolve("results.csv"), StandardCharsets.UTF_8);
        List<Result> results = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (!line.isBlank()) {
                results.add(Result.parseCsv(line));
            }
        }
        Path envFile = o.out().resolve("environment.md");
        String env = Files.exists(envFile) ? Files.readString(envFile, StandardCharsets.UTF_8) : "";
        Report report = new Report(results);
        write(out, o.out(), report.runs().size(), env, report);
        out.println("results.md and charts written again in " + o.out());
        return 0;
    }

    /** One service holding every provider, each on the shared client of its backend. */
    static LockingService service(@Nullable Backends backends) {
        Locking.Builder builder = Locking.builder().defaultProvider("lp_memory");
        if (backends != null) {
            RedissonClient redisson = backends.redisson;
            if (redisson != null) {
                builder.provider(RedisProviderFactory.fromClient("lp_redis", redisson));
            }
            CuratorFramework curator = backends.curator;
            if (curator != null) {
                builder.provider(ZookeeperProviderFactory.fromClient("lp_zookeeper", curator));
            }
            HazelcastInstance hazelcast = backends.hazelcast;
            if (hazelcast != null) {
                builder.provider(HazelcastProviderFactory.fromInstance("lp_hazelcast", hazelcast));
            }
            PostgresServer.Login postgres = backends.postgresLogin;
            if (postgres != null && PostgresServer.providerOnClasspath()) {
                // Found by its type, as an application would configure it: the same server, a pool of its own.
                builder.option(POSTGRES_ID, "url", postgres.url())
                        .option(POSTGRES_ID, "table", POSTGRES_TABLE)
                        .option(POSTGRES_ID, "poolSize", Integer.toString(backends.postgresPoolSize));
                if (postgres.user() != null) {
                    builder.option(POSTGRES_ID, "user", postgres.user());
                }
                if (postgres.password() != null) {
                    builder.option(POSTGRES_ID, "password", postgres.password());
                }
            }
        }
        return builder.build();
    }

    /** Ours first, then the peers, per provider id, for the backends asked for. */
    private static Map<String, List<Contender>> contenders(LockingService locking, @Nullable Backends b,
            BenchOptions o) {
        Map<String, List<Contender>> map = new LinkedHashMap<>();
        if (o.backend("memory")) {
            map.put("lp_memory", List.of(new OursContender(locking, "lp_memory"), Peers.reentrantLocks(),
                    Peers.fairReentrantLocks()));
        }
        if (b != null && b.redisson != null) {
            RedissonClient r = b.redisson;
            map.put("lp_redis", List.of(new OursContender(locking, "lp_redis"), Peers.redisson(r, REDIS_PEER_PREFIX),
                    Peers.redisFloor(r, REDIS_PEER_PREFIX)));
        }
        if (b != null && b.curator != null) {
            map.put("lp_zookeeper", List.of(new OursContender(locking, "lp_zookeeper"),
                    Peers.curator(b.curator, ZOOKEEPER_PEER_ROOT)));
        }
        if (b != null && b.hazelcast != null) {
            map.put("lp_hazelcast", List.of(new OursContender(locking, "lp_hazelcast"),
                    Peers.hazelcast(b.hazelcast, HAZELCAST_PEER_MAP)));
        }
        if (b != null && b.postgres != null) {
            map.put(POSTGRES_ID, postgresContenders(locking, b.postgres, false));
        }
        return map;
    }

    /**
     * lp_postgres (when its jar is on the classpath) and its peers on one pool; {@code waitingOnly} leaves out the
     * table floor, which cannot wait (the workers of W7/W8).
     */
    static List<Contender> postgresContenders(LockingService locking, javax.sql.DataSource pool, boolean waitingOnly) {
        List<Contender> list = new ArrayList<>();
        if (locking.providerIds().contains(POSTGRES_ID) && PostgresServer.providerOnClasspath()) {
            list.add(new OursContender(locking, POSTGRES_ID));
        }
        list.add(PostgresPeers.jdbcLockRegistry(pool));
        list.add(PostgresPeers.advisoryFloor(pool));
        if (!waitingOnly) {
            list.add(PostgresPeers.tableFloor(pool));
        }
        return list;
    }

    private static void runOnce(PrintStream out, BenchOptions o, int run, LockingService locking,
            Map<String, List<Contender>> byBackend, @Nullable Backends backends, List<Result> results) {
        Runner.Timing t = o.timing();
        if (o.workload("W1")) {
            byBackend.forEach((backend, cs) -> inTurn(out, results, o, Workloads.order(run, cycling(cs)).stream()
                    .map(c -> measurement(timing -> Workloads.cycles(run, "W1", 1, backend, c, timing))).toList()));
        }
        if (o.workload("W2")) {
            byBackend.forEach((backend, cs) -> inTurn(out, results, o, Workloads.order(run, cycling(cs)).stream()
                    .map(c -> measurement(timing -> Workloads.cycles(run, "W2", Workloads.W2_THREADS, backend, c,
                            timing))).toList()));
        }
        if (o.workload("W3")) {
            byBackend.forEach((backend, cs) -> inTurn(out, results, o, Workloads.order(run, waiting(cs)).stream()
                    .map(c -> measurement(timing -> Workloads.oneKey(run, backend, c, timing))).toList()));
        }
        if (o.workload("W4")) {
            byBackend.forEach((backend, cs) -> {
                // Ours in the caller's order against the peers on sorted keys, in turn; then each peer once in
                // the caller's order, which may deadlock (a stuck window is not worth repeating per slice).
                List<Contender> ordered = Workloads.order(run, waiting(cs));
                inTurn(out, results, o, ordered.stream().map(c -> measurement(timing ->
                        Workloads.multiKey(run, backend, c, !c.ours(), timing))).toList());
                ordered.stream().filter(c -> !c.ours()).forEach(c ->
                        add(out, results, Workloads.multiKey(run, backend, c, false, t)));
            });
        }
        if (o.workload("W5")) {
            for (String backend : byBackend.keySet()) {
                if (byBackend.get(backend).stream().noneMatch(Contender::ours)) {
                    continue; // lp_postgres without its jar: W5 measures ours only
                }
                add(out, results, Workloads.releaseAll(run, locking, backend, o.w5Others(), o.w5WarmupReps(),
                        o.w5Reps()));
            }
        }
        if ((o.workload("W7") || o.workload("W8")) && backends != null) {
            CrossProcess.measureAll(run, backends, o, r -> add(out, results, r));
        }
        if (o.workload("W6") && byBackend.containsKey("lp_memory")) {
            List<Result> heap = new ArrayList<>();
            if (run % 2 == 1) {
                heap.addAll(Workloads.heap(run, locking, o.w6Locks()));
                heap.addAll(Workloads.heapOfReentrantLocks(run, o.w6Locks()));
            } else {
                heap.addAll(Workloads.heapOfReentrantLocks(run, o.w6Locks()));
                heap.addAll(Workloads.heap(run, locking, o.w6Locks()));
            }
            heap.forEach(r -> add(out, results, r));
        }
    }

    /** Gives a lambda its type, so a stream of them is a list of measurements. */
    private static Function<Runner.Timing, Result> measurement(Function<Runner.Timing, Result> m) {
        return m;
    }

    /**
     * Measures the contenders of one workload in turn. With one slice, each in one window. With more, each
     * is first warmed up as a single measurement would be (its short window not recorded), then the
     * contenders take turns, one slice each, in alternating order, and each one's slices are merged. A
     * shared machine changes speed for tens of seconds at a time (another job, a slower mode); back-to-back
     * windows of several seconds then compare the machine's moods more than the contenders.
     */
    private static void inTurn(PrintStream out, List<Result> results, BenchOptions o,
            List<Function<Runner.Timing, Result>> measurements) {
        Runner.Timing t = o.timing();
        int slices = o.slices();
        if (slices <= 1) {
            measurements.forEach(m -> add(out, results, m.apply(t)));
            return;
        }
        Runner.Timing warm = new Runner.Timing(t.warmup(), SLICE_WARMUP, t.grace(), t.warmupOps(), t.maxWarmup());
        for (Function<Runner.Timing, Result> m : measurements) {
            Result warmUp = m.apply(warm);
            if (warmUp.overlaps() > 0) {
                add(out, results, warmUp); // not a figure to quote, but a broken lock fails the bench
            }
        }
        Duration window = t.measure().dividedBy(slices);
        Runner.Timing slice = new Runner.Timing(SLICE_WARMUP, window, t.grace(), 0, SLICE_WARMUP);
        List<List<Result>> parts = new ArrayList<>();
        measurements.forEach(m -> parts.add(new ArrayList<>()));
        for (int s = 0; s < slices; s++) {
            for (int k = 0; k < measurements.size(); k++) {
                int i = s % 2 == 0 ? k : measurements.size() - 1 - k;
                parts.get(i).add(measurements.get(i).apply(slice));
            }
        }
        parts.forEach(p -> add(out, results, Result.merge(p, window.toNanos() / 1e9)));
    }

    /** The contenders of W1 and W2: the fair {@code ReentrantLock} is a peer where threads wait (W3, W4). */
    private static List<Contender> cycling(List<Contender> contenders) {
        return contenders.stream().filter(c -> !c.name().equals(Peers.FAIR_REENTRANT)).toList();
    }

    /** The contenders that can wait for a lock (the Redis floor and the table floor cannot). */
    private static List<Contender> waiting(List<Contender> contenders) {
        return contenders.stream().filter(Contender::waits).toList();
    }

    /** How long each slice runs before its window: the threads start and take their first locks. */
    static final Duration SLICE_WARMUP = Duration.ofMillis(200);

    private static void add(PrintStream out, List<Result> results, Result r) {
        results.add(r);
        out.println(Report.describe(r));
        out.flush();
    }

    private static void write(PrintStream out, Path dir, int runs, String environment, Report report)
            throws IOException {
        List<Path> charts = Charts.write(report, dir);
        StringBuilder md = new StringBuilder();
        md.append("# Locking bench results\n\n").append(environment).append('\n');
        md.append("## Ours against the peers (medians of ").append(runs).append(" run(s); ratios are ours/peer, ")
                .append("taken inside each run, then the median)\n\n").append(report.comparisonTable()).append('\n');
        String across = report.crossProcessTable();
        if (across.lines().count() > 2) {
            md.append("## Across processes (W7, W8): fairness next to throughput\n\n").append(across).append('\n');
        }
        md.append("## Single figures\n\n").append(report.figuresTable()).append('\n');
        md.append("## Targets\n\n").append(report.targetsTable()).append('\n');
        List<String> problems = report.problems();
        if (!problems.isEmpty()) {
            md.append("## Measurements that did not complete cleanly\n\n");
            problems.forEach(p -> md.append("- ").append(p).append('\n'));
            md.append('\n');
        }
        md.append("## Charts\n\n");
        for (Path chart : charts) {
            md.append("![").append(chart.getFileName()).append("](").append(chart.getFileName()).append(")\n\n");
        }
        Files.writeString(dir.resolve("results.md"), md, StandardCharsets.UTF_8);
        out.println();
        out.println(report.comparisonTable());
        out.println(report.figuresTable());
        out.println(report.targetsTable());
    }

    static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The machine and software the numbers come from. */
    record Environment(String date, int cpus, long memoryBytes, String java, String os, Map<String, String> versions,
            String command, double loadBefore, double loadAfter) {

        static Environment capture(BenchOptions o) {
            Map<String, String> v = new LinkedHashMap<>();
            v.put("Locking", Objects.requireNonNullElse(BenchMain.class.getPackage().getImplementationVersion(),
                    "0.1.0-SNAPSHOT"));
            if (o.backend("redis")) {
                v.put("redis-server", Backends.redisServerVersion());
                v.put("Redisson", Backends.jarVersion("org.redisson", "redisson"));
            }
            if (o.backend("zookeeper")) {
                v.put("ZooKeeper", Backends.jarVersion("org.apache.zookeeper", "zookeeper"));
                v.put("Curator", Backends.jarVersion("org.apache.curator", "curator-recipes"));
            }
            if (o.backend("hazelcast")) {
                v.put("Hazelcast", Backends.jarVersion("com.hazelcast", "hazelcast"));
            }
            if (o.backend("postgres")) {
                String settings = System.getProperty(PostgresServer.OPTIONS_PROPERTY, "").trim();
                v.put("PostgreSQL", PostgresServer.version() + (settings.isEmpty() ? "" : " (" + settings + ")"));
                v.put("pgjdbc", Backends.manifestVersion(org.postgresql.Driver.class));
                v.put("HikariCP", Backends.manifestVersion(com.zaxxer.hikari.HikariDataSource.class));
                v.put("Spring Integration", Backends.manifestVersion(
                        org.springframework.integration.jdbc.lock.JdbcLockRegistry.class));
            }
            v.put("HdrHistogram", Backends.jarVersion("org.hdrhistogram", "HdrHistogram"));
            v.put("XChart", Backends.jarVersion("org.knowm.xchart", "xchart"));
            long memory = 0;
            if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
                memory = os.getTotalMemorySize();
            }
            String jvm = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                    + " (" + System.getProperty("java.vendor") + ")";
            String osName = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                    + System.getProperty("os.arch");
            String command = "BenchMain " + String.join(" ", o.args());
            return new Environment(ZonedDateTime.now(ZoneId.systemDefault()).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME),
                    Runtime.getRuntime().availableProcessors(), memory, jvm, osName, v, command.trim(),
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), Double.NaN);
        }

        Environment finish() {
            return new Environment(date, cpus, memoryBytes, java, os, versions, command, loadBefore,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }

        String markdown() {
            StringBuilder sb = new StringBuilder();
            sb.append("- Date: ").append(date).append('\n');
            sb.append(String.format(Locale.ROOT, "- Machine: %d CPUs, %.1f GiB memory, %s%n", cpus,
                    memoryBytes / (1024.0 * 1024 * 1024), os));
            sb.append("- Java: ").append(java).append('\n');
            sb.append("- Versions: ");
            List<String> parts = new ArrayList<>();
            versions.forEach((k, val) -> parts.add(k + " " + val));
            sb.append(String.join(", ", parts)).append('\n');
            sb.append(String.format(Locale.ROOT, "- Load average (1 min): %.2f before, %.2f after%n", loadBefore,
                    loadAfter));
            sb.append("- Command: `").append(command).append("`\n");
            return sb.toString();
        }
    }
}
