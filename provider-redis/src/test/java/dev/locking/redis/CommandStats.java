package dev.locking.redis;

import java.util.Map;
import java.util.TreeMap;

/** Reads {@code INFO commandstats}: how many times Redis ran each command since the last reset. */
final class CommandStats {
    private CommandStats() {}

    static Map<String, Long> read(RespClient admin) {
        Map<String, Long> calls = new TreeMap<>();
        for (String line : admin.string("INFO", "commandstats").split("\r\n", -1)) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            int colon = line.indexOf(':');
            String name = line.substring("cmdstat_".length(), colon);
            for (String field : line.substring(colon + 1).split(",", -1)) {
                if (field.startsWith("calls=")) {
                    calls.put(name, Long.parseLong(field.substring("calls=".length())));
                }
            }
        }
        return calls;
    }

    /** All calls except the given command names. */
    static long total(Map<String, Long> calls, String... except) {
        Map<String, Long> copy = new TreeMap<>(calls);
        for (String name : except) {
            copy.remove(name);
        }
        return copy.values().stream().mapToLong(Long::longValue).sum();
    }
}
