package dev.locking.hazelcast;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.core.HazelcastInstance;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult.Acquired;
import dev.locking.spi.LockingProvider;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The client the conformance tests hand the kit for its cut-off tests ({@code newProviderThrough}): a
 * single-member-routing client whose every call goes through a loopback proxy, so a proxy that drops traffic
 * cuts it off from the cluster while other clients carry on.
 */
class ProxiedClientTest {

    /** What a test does with a proxied client, the proxy in front of its member, and a provider on the member. */
    private interface ProxiedCase {
        void run(LoopbackProxy proxy, LockingProvider proxied, LockingProvider direct) throws Exception;
    }

    /** Starts a member of a cluster of its own, the proxy and both providers; shuts everything down after. */
    private static void withProxiedClient(String purpose, ProxiedCase test) throws Exception {
        String cluster = TestMembers.clusterName(purpose);
        HazelcastInstance member = TestMembers.startMember(cluster);
        String mapName = "map-" + UUID.randomUUID();
        try (LoopbackProxy proxy = new LoopbackProxy(TestMembers.firstAddress(TestMembers.address(member)));
                LockingProvider proxied = TestMembers.proxiedClientProvider("lp_hazelcast", cluster, proxy.address(),
                        mapName);
                LockingProvider direct = HazelcastProviderFactory.fromInstance("lp_hazelcast", member, mapName)) {
            test.run(proxy, proxied, direct);
        } finally {
            member.shutdown();
        }
    }

    @Test
    void everyCallGoesThroughTheProxy_soDroppingTrafficCutsTheClientOff() throws Exception {
        withProxiedClient("proxied", (proxy, proxied, direct) -> {
            assertThat(proxied.tryAcquire(List.of("k"), "o", Duration.ofSeconds(30))).isInstanceOf(Acquired.class);
            assertThat(direct.inspect("k").orElseThrow().ownerId()).isEqualTo("o");

            proxy.drop(true);
            long start = System.nanoTime();
            assertThatThrownBy(() -> proxied.inspect("k")).isInstanceOf(ProviderUnavailableException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            assertThat(direct.release(List.of("k"), "o")).isTrue();
        });
    }

    /**
     * The first wait of a provider registers its release listener; an interrupt while that registration waits
     * for the cluster (here: forever, the proxy drops everything) ends the wait with InterruptedException, as
     * an interrupt during any wait does, not with the LockingException of a call cut short.
     */
    @Test
    void anInterruptWhileTheFirstWaitRegistersItsListener_isAnInterruptedException() throws Exception {
        withProxiedClient("proxied-wait", (proxy, proxied, direct) -> {
            assertThat(direct.tryAcquire(List.of("held"), "o", null)).isInstanceOf(Acquired.class);
            assertThat(proxied.inspect("held")).isPresent(); // connected

            proxy.drop(true);
            CompletableFuture<Thread> waiterThread = new CompletableFuture<>();
            CompletableFuture<Throwable> failure = CompletableFuture.supplyAsync(() -> {
                waiterThread.complete(Thread.currentThread());
                try {
                    proxied.awaitRelease(List.of("held"), Duration.ofSeconds(30));
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            }, r -> new Thread(r, "first-waiter").start());
            Thread waiter = waiterThread.get(30, TimeUnit.SECONDS);
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> waiter.getState() == Thread.State.WAITING
                            || waiter.getState() == Thread.State.TIMED_WAITING);
            waiter.interrupt();
            assertThat(failure.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        });
    }
}
