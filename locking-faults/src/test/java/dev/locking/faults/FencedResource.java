package dev.locking.faults;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The storage a lock protects, as a fenced resource would be: a loopback TCP server in the test's JVM that
 * takes a write of (writer, key, token) only if the token is not lower than the highest it has accepted for
 * that key, and refuses it as stale otherwise.
 *
 * <p>Protocol, one line each way: the child sends {@code W <writer> <key> <token>}, the resource answers
 * {@code OK} or {@code STALE}. Writers and keys contain no spaces.
 *
 * <p>An accepted write whose token equals the highest but comes from another writer is a token handed out
 * twice: the resource's rule lets it pass (the token is not lower), so it is counted as a <em>stale write
 * accepted</em>, the one failure fencing exists to prevent. Every (writer, token) pair the resource accepts
 * for the first time is one <em>grant seen</em>; their tokens must strictly increase per key.
 *
 * <p>Concurrency: one thread per connection; what the resource saw, per key, is guarded by this object's
 * monitor. The list of open connections is a concurrent list, and {@code closed} is volatile.
 */
final class FencedResource implements AutoCloseable {
    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> connections = new CopyOnWriteArrayList<>();
    @GuardedBy("this")
    private final Map<String, PerKey> keys = new HashMap<>();
    private volatile boolean closed;

    /** What the resource saw for one key. */
    static final class PerKey {
        long highest = Long.MIN_VALUE;
        String highestWriter = "";
        int accepted;
        int refused;
        int staleAccepted;
        /** The tokens of the grants seen, in the order the resource first accepted a write of each. */
        final List<Long> grantTokens = new ArrayList<>();
        /** "writer:token" of each grant seen, same order. */
        final List<String> grants = new ArrayList<>();
    }

    /** A copy of what the resource saw for one key. */
    record Snapshot(int accepted, int refused, int staleAccepted, List<Long> grantTokens, List<String> grants) {
        Snapshot {
            grantTokens = List.copyOf(grantTokens);
            grants = List.copyOf(grants);
        }

        /** The first place where a grant's token is not above the one before it, or -1. */
        int firstNonIncreasing() {
            for (int i = 1; i < grantTokens.size(); i++) {
                if (grantTokens.get(i) <= grantTokens.get(i - 1)) {
                    return i;
                }
            }
            return -1;
        }
    }

    FencedResource() {
        try {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        acceptor = new Thread(this::acceptLoop, "fenced-resource-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    synchronized Snapshot snapshot(String key) {
        PerKey k = keys.get(key);
        if (k == null) {
            return new Snapshot(0, 0, 0, List.of(), List.of());
        }
        return new Snapshot(k.accepted, k.refused, k.staleAccepted, k.grantTokens, k.grants);
    }

    /** Applies one write; true if accepted. */
    synchronized boolean write(String writer, String key, long token) {
        PerKey k = keys.computeIfAbsent(key, x -> new PerKey());
        if (token < k.highest) {
            k.refused++;
            return false;
        }
        String grant = writer + ":" + token;
        if (token == k.highest && !writer.equals(k.highestWriter)) {
            k.staleAccepted++; // the same token from two writers: one of them should not hold the lock
        }
        if (!k.grants.contains(grant)) {
            k.grants.add(grant);
            k.grantTokens.add(token);
        }
        k.highest = token;
        k.highestWriter = writer;
        k.accepted++;
        return true;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                connections.add(socket);
                Thread t = new Thread(() -> serve(socket), "fenced-resource-" + socket.getPort());
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("fenced resource: accept failed: " + e);
                }
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket;
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                        StandardCharsets.UTF_8));
                Writer out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] parts = line.split(" ", -1);
                String reply;
                if (parts.length == 4 && parts[0].equals("W")) {
                    reply = write(parts[1], parts[2], Long.parseLong(parts[3])) ? "OK" : "STALE";
                } else {
                    reply = "ERR bad request";
                }
                out.write(reply + "\n");
                out.flush();
            }
        } catch (IOException | NumberFormatException e) {
            // the child died or was killed: its connection simply ends
        } finally {
            connections.remove(socket);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing anyway
        }
        for (Socket s : connections) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
