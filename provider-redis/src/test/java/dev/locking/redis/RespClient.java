package dev.locking.redis;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * A minimal RESP2 client for tests: the admin side of a fixture (readiness, {@code INFO}, {@code DEL},
 * {@code CLUSTER}, {@code ACL}), independent of Redisson so that it checks the provider from outside.
 */
final class RespClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    /** An error reply. */
    static final class RespError extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RespError(String message) {
            super(message);
        }
    }

    private RespClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static RespClient connect(String host, int port, @Nullable SSLContext tls, @Nullable String user,
            @Nullable String password) {
        try {
            Socket plain = new Socket();
            plain.connect(new InetSocketAddress(host, port), 2000);
            plain.setSoTimeout(10_000);
            Socket socket = tls == null ? plain : tls.getSocketFactory().createSocket(plain, host, port, true);
            RespClient client = new RespClient(socket);
            if (password != null) {
                if (user != null) {
                    client.call("AUTH", user, password);
                } else {
                    client.call("AUTH", password);
                }
            }
            return client;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends one command and returns the reply: String, Long, List, or null. */
    @Nullable Object call(String... args) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.write(('*' + Integer.toString(args.length) + "\r\n").getBytes(StandardCharsets.UTF_8));
            for (String arg : args) {
                byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
                b.write(('$' + Integer.toString(bytes.length) + "\r\n").getBytes(StandardCharsets.UTF_8));
                b.write(bytes);
                b.write("\r\n".getBytes(StandardCharsets.UTF_8));
            }
            out.write(b.toByteArray());
            out.flush();
            return read();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one more reply, for connections that stream (MONITOR, SUBSCRIBE). */
    @Nullable Object next() {
        try {
            return read();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String string(String... args) {
        Object reply = call(args);
        return reply == null ? "" : reply.toString();
    }

    long number(String... args) {
        Object reply = call(args);
        if (reply instanceof Long l) {
            return l;
        }
        throw new IllegalStateException("not a number: " + reply);
    }

    private @Nullable Object read() throws IOException {
        int type = in.read();
        String line = line();
        switch (type) {
            case '+' -> {
                return line;
            }
            case '-' -> throw new RespError(line);
            case ':' -> {
                return Long.parseLong(line);
            }
            case '$' -> {
                int length = Integer.parseInt(line);
                if (length < 0) {
                    return null;
                }
                byte[] data = in.readNBytes(length);
                line();
                return new String(data, StandardCharsets.UTF_8);
            }
            case '*' -> {
                int count = Integer.parseInt(line);
                if (count < 0) {
                    return null;
                }
                List<@Nullable Object> items = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    items.add(read());
                }
                return items;
            }
            default -> throw new IOException("unexpected RESP type " + type);
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\r') {
                in.read();
                break;
            }
            b.write(c);
        }
        if (c == -1) {
            throw new IOException("connection closed");
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    /** The value of one field of an {@code INFO} section, or null. */
    @Nullable String info(String section, String field) {
        for (String line : string("INFO", section).split("\r\n", -1)) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1);
            }
        }
        return null;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            // closing a test connection
        }
    }
}
