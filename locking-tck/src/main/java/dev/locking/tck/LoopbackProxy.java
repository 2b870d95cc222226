package dev.locking.tck;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A TCP proxy on the loopback interface that forwards every connection to one target and can be told to
 * drop all traffic, as a network partition would, without root rights or firewall rules.
 *
 * <pre>{@code
 * try (LoopbackProxy proxy = new LoopbackProxy(new InetSocketAddress("127.0.0.1", redisPort))) {
 *     LockingProvider client = clientOf(proxy.address()); // connects to the proxy, not to the server
 *     client.tryAcquire(List.of("order-17"), "worker-1", Duration.ofSeconds(2));
 *     proxy.cut();     // from now on the client's requests and the server's answers vanish
 *     // ... the client's renewals time out; its lease lapses on the server
 *     proxy.restore(); // new connections go through again
 * }
 * }</pre>
 *
 * <h2>What a cut looks like</h2>
 * {@link #cut()} makes the proxy read and discard whatever either side sends on every connection, open or
 * new: no byte gets through, no connection is closed or reset (neither side sees a FIN or an RST), and new
 * connections are still accepted, but not forwarded. To the client the server has simply stopped answering.
 * {@link #restore()} forwards new connections again; connections that lived through a cut are closed then,
 * since the bytes they lost would leave their streams garbled.
 *
 * <p>Concurrency: thread-safe. Each connection uses two daemon threads (one per direction) and an acceptor
 * thread takes new ones. The open connections are a concurrent set; {@code cut}, {@code closed} and each
 * connection's upstream socket and dropping flag are volatile, so a {@link #cut()} on the test's thread is
 * seen by the next read of every pump. No lock is held while a socket is read or written.
 *
 * @since 0.1.0
 */
public final class LoopbackProxy implements AutoCloseable {
    private static final AtomicInteger PROXIES = new AtomicInteger();

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final String name;
    private volatile boolean cut;
    private volatile boolean closed;

    /**
     * Starts a proxy for {@code target} on 127.0.0.1, on a free port.
     *
     * @param target where connections are forwarded
     * @throws UncheckedIOException if no port can be bound
     */
    public LoopbackProxy(InetSocketAddress target) {
        this.target = target;
        this.name = "tck-proxy-" + PROXIES.incrementAndGet();
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on the loopback interface", e);
        }
        Thread acceptor = new Thread(this::accept, name + "-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /**
     * Returns where clients connect: 127.0.0.1 and the proxy's port.
     *
     * @return the proxy's address
     */
    public InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    /** Drops all traffic from now on, on open and new connections alike, without closing any of them. */
    public void cut() {
        cut = true;
        for (Link link : links) {
            link.dropping = true;
        }
    }

    /** Forwards new connections again and closes those that lived through the cut. */
    public void restore() {
        cut = false;
        for (Link link : links) {
            if (link.dropping) {
                link.close();
            }
        }
    }

    /**
     * Returns whether traffic is being dropped.
     *
     * @return true between {@link #cut()} and {@link #restore()}
     */
    public boolean isCut() {
        return cut;
    }

    /** Stops listening and closes every connection (the sides see them closed). */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Link link : links) {
            link.close();
        }
    }

    private void accept() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            Link link = new Link(client);
            links.add(link);
            if (cut) { // a cut() that ran between the constructor and add() did not see this link
                link.dropping = true;
            }
            if (closed) {
                link.close();
                return;
            }
            link.start();
        }
    }

    /** One client connection and, unless it was accepted during a cut, its connection to the target. */
    private final class Link {
        final Socket client;
        volatile @Nullable Socket upstream;
        volatile boolean dropping;

        Link(Socket client) {
            this.client = client;
            this.dropping = cut;
        }

        void start() {
            if (dropping) {
                pump(client, null, "drop");
                return;
            }
            Socket up = new Socket();
            try {
                up.connect(target, 10_000);
            } catch (IOException e) {
                closeQuietly(up);
                close(); // the target is down: the client sees its connection closed, as with no proxy
                return;
            }
            upstream = up;
            if (dropping) { // cut while connecting
                pump(client, null, "drop");
                pump(up, null, "drop");
                return;
            }
            pump(client, up, "up");
            pump(up, client, "down");
        }

        /** Copies {@code from} to {@code to} while not dropping; discards what arrives while dropping. */
        private void pump(Socket from, @Nullable Socket to, String direction) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try {
                    InputStream in = from.getInputStream();
                    OutputStream out = to == null ? null : to.getOutputStream();
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        if (!dropping && out != null) {
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    }
                } catch (IOException e) {
                    // a side went away, or the proxy closed the link
                }
                // An end of stream is passed on only while forwarding: a partition carries no FIN either.
                if (!dropping) {
                    close();
                }
            }, name + "-" + direction);
            t.setDaemon(true);
            t.start();
        }

        void close() {
            links.remove(this);
            closeQuietly(client);
            Socket up = upstream;
            if (up != null) {
                closeQuietly(up);
            }
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    @Override
    public String toString() {
        return name + "[" + address() + " -> " + target + (cut ? ", cut" : "") + "]";
    }
}
