package dev.locking.faults;

import dev.locking.tck.JavaCommand;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A JVM started by the test with the test's own classpath, running one main class of this module. Its
 * standard output is read line by line (each line goes to a consumer and to a log file); standard error goes
 * to a file. Closing it kills it if it still runs, and a shutdown hook does the same if the test JVM dies
 * first; a child also ends by itself when its standard input closes.
 */
final class ChildJvm implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;
    private final Path err;
    private final Writer stdin;
    private final Thread hook;
    private final Thread reader;

    private ChildJvm(String name, Process process, Path log, Path err, Consumer<String> lines) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.err = err;
        this.stdin = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.hook = new Thread(process::destroyForcibly, "kill-" + name);
        Runtime.getRuntime().addShutdownHook(hook);
        this.reader = new Thread(() -> pump(lines), name + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts {@code mainClass} in a new JVM.
     *
     * @param dir        where the argument file and the logs go
     * @param properties system properties for the child
     * @param lines      gets each line of the child's standard output, on a reader thread
     */
    static ChildJvm start(String name, Path dir, Class<?> mainClass, Map<String, String> properties,
            List<String> args, Consumer<String> lines) {
        // Small and quick to start: a child runs seconds, on a machine other builds share.
        List<String> options = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx192m", "-Xss512k");
        Map<String, String> all = new LinkedHashMap<>();
        all.put("org.slf4j.simpleLogger.showDateTime", "true");
        all.put("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        all.putAll(properties);
        try {
            Files.createDirectories(dir);
            List<String> command = JavaCommand.of(dir, name, options, all, mainClass, args);
            Path log = dir.resolve(name + ".out");
            Path err = dir.resolve(name + ".err");
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.appendTo(err.toFile()))
                    .start();
            return new ChildJvm(name, process, log, err, lines);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start child JVM " + name, e);
        }
    }

    /**
     * For a child's main method: blocks until its standard input ends, which is how the test tells a server
     * to stop (or how the child learns that the test died).
     */
    static void awaitEndOfInput() {
        byte[] buffer = new byte[256];
        try {
            while (System.in.read(buffer) >= 0) {
                // only the end of the stream matters
            }
        } catch (IOException e) {
            // the test is gone
        }
    }

    private void pump(Consumer<String> lines) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8));
                Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.write('\n');
                out.flush();
                lines.accept(line);
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    Path errorLog() {
        return err;
    }

    /** Writes one line to the child's standard input; false if the child no longer reads it. */
    boolean tell(String line) {
        try {
            stdin.write(line + "\n");
            stdin.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills the child at once (SIGKILL), as a crash would. */
    void kill() {
        process.destroyForcibly();
    }

    /**
     * Waits for the child to exit.
     *
     * @return its exit code, or empty if it still ran after {@code max}
     */
    Optional<Integer> awaitExit(Duration max) throws InterruptedException {
        if (process.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
            // let the reader see the last lines before the caller looks at the events
            reader.join(TimeUnit.SECONDS.toMillis(5));
            return Optional.of(process.exitValue());
        }
        return Optional.empty();
    }

    /** The end of the child's standard error, for a failure message. */
    String errorTail() {
        return JavaCommand.tail(err, 3000);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            // SIGKILL ends a frozen (SIGSTOPped) process too
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            stdin.close();
        } catch (IOException e) {
            // already gone
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down; the hook runs anyway
        }
    }
}
