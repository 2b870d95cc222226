package dev.locking.hazelcast;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.locking.api.ExecuteOptions;
import dev.locking.api.LockingService;
import dev.locking.core.Locking;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * By hand, not part of the suite: hand-offs per second on one key between threads of several Hazelcast clients
 * of one member in this JVM, through the provider's SPI ({@code acquireOrQueue}, {@code awaitGrant},
 * {@code release}) and through {@code IMap.lock}, in turns. Run its {@code main} on the module's test class path
 * (after {@code test-compile}); {@code -Dlocking.measure.clients=N -Dlocking.measure.threads=T
 * -Dlocking.measure.seconds=S}. Prints lines starting with {@code MEASURE}.
 */
final class HandOffMeasurement {

    private HandOffMeasurement() {}

    interface Contender {
        void once(int client, String owner) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int clients = Integer.getInteger("locking.measure.clients", 4);
        int threads = Integer.getInteger("locking.measure.threads", 2);
        int seconds = Integer.getInteger("locking.measure.seconds", 5);
        String cluster = TestMembers.clusterName("handoff");
        HazelcastInstance member = TestMembers.startMember(cluster);
        List<HazelcastInstance> instances = new ArrayList<>();
        List<LockingProvider> providers = new ArrayList<>();
        List<LockingService> services = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            HazelcastInstance client = TestMembers.client(cluster, TestMembers.address(member));
            instances.add(client);
            providers.add(HazelcastProviderFactory.fromInstance("lp_hazelcast", client, "measure"));
            services.add(Locking.builder().provider(HazelcastProviderFactory.fromInstance("lp_hazelcast", client,
                    "measure-core")).build());
        }
        for (int i = 0; i < Integer.getInteger("locking.measure.extraListeners", 0); i++) {
            instances.get(0).<String, LockEntry>getMap("measure").addEntryListener(new GrantListener(
                    new dev.locking.spi.support.GrantInbox()), new GrantListener.GrantedTo("nobody:"),
                    true);
        }
        ExecuteOptions execute = ExecuteOptions.builder().provider("lp_hazelcast").expire(Duration.ofSeconds(30))
                .timeout(Duration.ofMinutes(1)).build();
        Contender core = (client, owner) -> services.get(client).execute("k", lock -> Boolean.TRUE, execute);
        Duration lease = Duration.ofSeconds(30);
        Duration stay = Duration.ofSeconds(4);
        Contender ours = (client, owner) -> {
            LockingProvider p = providers.get(client);
            AcquireResult r = p.acquireOrQueue("k", owner, lease, stay);
            while (!(r instanceof AcquireResult.Acquired)) {
                AcquireResult.Acquired grant = p.awaitGrant("k", owner, Duration.ofSeconds(2));
                r = grant != null ? grant : p.acquireOrQueue("k", owner, lease, stay);
            }
            p.release(List.of("k"), owner);
        };
        Contender imap = (client, owner) -> {
            IMap<String, String> map = instances.get(client).getMap("imap");
            map.lock("k");
            map.unlock("k");
        };
        String only = System.getProperty("locking.measure.only", "");
        for (int round = 0; round < Integer.getInteger("locking.measure.rounds", 3); round++) {
            if (only.isEmpty() || only.equals("ours")) {
                run("lp_hazelcast", ours, clients, threads, seconds);
            }
            if (only.isEmpty() || only.equals("imap")) {
                run("IMap.lock", imap, clients, threads, seconds);
            }
            if (only.isEmpty() || only.equals("core")) {
                run("execute", core, clients, threads, seconds);
            }
        }
        for (LockingProvider p : providers) {
            p.close();
        }
        services.forEach(LockingService::close);
        instances.forEach(HazelcastInstance::shutdown);
        member.shutdown();
    }

    private static void run(String name, Contender contender, int clients, int threads, int seconds)
            throws Exception {
        AtomicLong ops = new AtomicLong();
        CountDownLatch done = new CountDownLatch(clients * threads);
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        AtomicLong seq = new AtomicLong();
        long cpuBefore = cpu();
        long switchesBefore = contextSwitches();
        for (int c = 0; c < clients; c++) {
            for (int t = 0; t < threads; t++) {
                int client = c;
                Thread thread = new Thread(() -> {
                    try {
                        while (System.nanoTime() - end < 0) {
                            contender.once(client, "exec:client" + client + ":" + seq.incrementAndGet());
                            ops.incrementAndGet();
                        }
                    } catch (Exception e) {
                        System.out.println("MEASURE failed: " + e);
                    } finally {
                        done.countDown();
                    }
                });
                thread.start();
            }
        }
        done.await();
        long cpuUsed = cpu() - cpuBefore;
        long switches = contextSwitches() - switchesBefore;
        System.out.printf("MEASURE %-14s %,8.0f ops/s  cpu %,6.0f us/op  %,5.1f context switches/op%n", name,
                ops.get() / (double) seconds, cpuUsed / 1000.0 / ops.get(), switches / (double) ops.get());
    }

    /** Voluntary and involuntary context switches of this process's threads so far (Linux; else 0). */
    private static long contextSwitches() {
        long total = 0;
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return 0;
        }
        for (java.io.File task : tasks) {
            try {
                for (String line : java.nio.file.Files.readAllLines(new java.io.File(task, "status").toPath())) {
                    if (line.contains("ctxt_switches:")) {
                        total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
            } catch (java.io.IOException | RuntimeException e) {
                // the thread ended meanwhile
            }
        }
        return total;
    }

    private static long cpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
