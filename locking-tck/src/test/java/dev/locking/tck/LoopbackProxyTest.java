package dev.locking.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Checks the proxy against an echo server: forwarding, a silent cut, and restoring. */
class LoopbackProxyTest {

    /** How long a test listens for bytes that must not arrive. */
    private static final int SILENCE_MILLIS = 500;

    private EchoServer echo;
    private LoopbackProxy proxy;

    @BeforeEach
    void start() throws IOException {
        echo = new EchoServer();
        proxy = new LoopbackProxy(echo.address());
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    @Test
    void forwardsBothWays() throws IOException {
        assertThat(proxy.address().getAddress().isLoopbackAddress()).isTrue();
        assertThat(proxy.address().getPort()).isNotEqualTo(echo.address().getPort());
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "hello")).isEqualTo("hello");
            assertThat(roundTrip(s, "again")).isEqualTo("again");
        }
    }

    @Test
    void aCut_dropsTrafficOnAnOpenConnection_withoutClosingIt() throws IOException {
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "before")).isEqualTo("before");
            long received = echo.received.get();

            proxy.cut();
            s.getOutputStream().write("lost".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();

            assertSilent(s); // no byte, and neither end of stream nor reset
            assertThat(echo.received).as("bytes the server got").hasValue(received);
            assertThat(s.isClosed()).isFalse();
        }
    }

    @Test
    void aCut_acceptsNewConnections_butForwardsNothing() throws IOException {
        proxy.cut();
        try (Socket s = connect()) {
            s.getOutputStream().write("lost".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            assertSilent(s);
            assertThat(echo.received).hasValue(0);
        }
    }

    @Test
    void restore_forwardsNewConnectionsAgain_andClosesTheOldOnes() throws IOException {
        try (Socket old = connect()) {
            assertThat(roundTrip(old, "before")).isEqualTo("before");
            proxy.cut();
            assertThat(proxy.isCut()).isTrue();

            proxy.restore();

            assertThat(proxy.isCut()).isFalse();
            try (Socket fresh = connect()) {
                assertThat(roundTrip(fresh, "after")).isEqualTo("after");
            }
            old.setSoTimeout(10_000);
            assertThat(readOrEnd(old.getInputStream())).as("the old connection is closed").isEqualTo(-1);
        }
    }

    @Test
    void close_stopsListening() throws IOException {
        InetSocketAddress address = proxy.address();
        proxy.close();
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(address, 2_000);
            }
        }).isInstanceOf(IOException.class);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(proxy.address(), 5_000);
        return s;
    }

    private static String roundTrip(Socket s, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        s.getOutputStream().write(bytes);
        s.getOutputStream().flush();
        s.setSoTimeout(10_000);
        byte[] back = s.getInputStream().readNBytes(bytes.length);
        return new String(back, StandardCharsets.US_ASCII);
    }

    private static void assertSilent(Socket s) throws IOException {
        s.setSoTimeout(SILENCE_MILLIS);
        assertThatThrownBy(() -> readOrEnd(s.getInputStream()))
                .as("a read within %d ms", SILENCE_MILLIS)
                .isInstanceOf(SocketTimeoutException.class);
    }

    /** One byte, or -1 at the end of the stream; a reset shows as an IOException other than a timeout. */
    private static int readOrEnd(InputStream in) throws IOException {
        return in.read();
    }

    /** Echoes every byte back and counts them. */
    private static final class EchoServer implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final AtomicLong received = new AtomicLong();

        EchoServer() throws IOException {
            Thread t = new Thread(this::serve, "echo-accept");
            t.setDaemon(true);
            t.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
        }

        private void serve() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> echo(s), "echo");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void echo(Socket s) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                byte[] buffer = new byte[1024];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    received.addAndGet(n);
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // the client went away
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
