package dev.locking.zookeeper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A three-server ensemble (Curator's in-JVM {@link TestingCluster}, on free ports, 500 ms ticks) for one test
 * class: started before the class's {@code @BeforeAll} methods and stopped after its {@code @AfterAll}
 * methods, so the providers a test class closes there still find their servers. Its {@code @Nested}
 * classes share it.
 */
final class ZookeeperEnsemble implements BeforeAllCallback, AfterAllCallback {
    private volatile @Nullable TestingCluster cluster;
    /** The class whose run started the ensemble; @Nested classes inherit the extension but do not own it. */
    private volatile @Nullable Class<?> owner;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (cluster != null) {
            return;
        }
        List<InstanceSpec> specs = new ArrayList<>();
        for (int id = 1; id <= 3; id++) {
            specs.add(new InstanceSpec(null, -1, -1, -1, true, id, ZookeeperServer.TICK_MILLIS, -1));
        }
        TestingCluster c = new TestingCluster(specs);
        c.start();
        cluster = c;
        owner = context.getRequiredTestClass();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (context.getRequiredTestClass() != owner) {
            return;
        }
        TestingCluster c = cluster;
        cluster = null;
        if (c != null) {
            c.close();
        }
    }

    TestingCluster cluster() {
        TestingCluster c = cluster;
        if (c == null) {
            throw new IllegalStateException("the ensemble is not running");
        }
        return c;
    }

    /** The server that says "Mode: leader" to the {@code srvr} four-letter command, or null. */
    static @Nullable InstanceSpec leader(TestingCluster cluster) {
        for (InstanceSpec spec : cluster.getInstances()) {
            String answer = srvr(spec.getPort());
            if (answer.contains("Mode: leader")) {
                return spec;
            }
        }
        return null;
    }

    private static String srvr(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            socket.setSoTimeout(2000);
            OutputStream out = socket.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            return "";
        }
    }
}
