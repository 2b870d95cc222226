package dev.locking.redis;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Counts the commands clients send to one Redis server while an action runs, with {@code MONITOR}:
 * commands that scripts run inside Redis ({@code [0 lua]}) and the markers this class sends are left out,
 * and so is Redisson's keep-alive {@code PING}. What remains is one line per round trip.
 */
final class Monitor implements AutoCloseable {
    private final RespClient monitor;
    private final RespClient marker;

    Monitor(Supplier<RespClient> connect) {
        this.monitor = connect.get();
        this.marker = connect.get();
        monitor.call("MONITOR");
    }

    /** The commands (name and arguments, as MONITOR prints them) that clients sent while the action ran. */
    List<String> commandsDuring(Runnable action) {
        skipTo(mark());
        action.run();
        return skipTo(mark());
    }

    private String mark() {
        String id = "monitor-mark-" + UUID.randomUUID();
        marker.call("ECHO", id);
        return id;
    }

    private List<String> skipTo(String id) {
        List<String> commands = new ArrayList<>();
        while (true) {
            String line = String.valueOf(monitor.next());
            if (line.contains(id)) {
                return commands;
            }
            int open = line.indexOf('[');
            int close = line.indexOf(']', open);
            if (open < 0 || close < 0 || line.substring(open, close).contains("lua")) {
                continue;
            }
            String command = line.substring(close + 1).trim();
            if (command.toLowerCase(java.util.Locale.ROOT).startsWith("\"ping\"")) {
                continue;
            }
            commands.add(command);
        }
    }

    @Override
    public void close() {
        monitor.close();
        marker.close();
    }
}
