package dev.locking.core;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Captures what slf4j-simple writes (to {@code System.err}, resolved on every write) while a block runs.
 */
final class LogCapture {
    private LogCapture() {}

    record Captured<T>(T value, List<String> lines) {}

    static synchronized <T> Captured<T> during(Supplier<T> block) {
        PrintStream original = System.err;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            T value = block.get();
            return new Captured<>(value, Arrays.asList(buffer.toString(StandardCharsets.UTF_8).split("\\R")));
        } finally {
            System.setErr(original);
        }
    }
}
