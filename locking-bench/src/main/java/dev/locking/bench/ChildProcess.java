package dev.locking.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A backend server in a process of its own: a {@code redis-server}, or a child JVM running one of this
 * module's server mains. It is stopped by {@link #close()}, and by a shutdown hook if the bench dies first;
 * a child JVM also stops by itself when its standard input closes, that is when this JVM is gone.
 *
 * <p>A child announces that it is ready with one line {@code READY <address>} on its standard output; what
 * it prints otherwise goes to its log file.
 *
 * <p>Concurrency: a reader thread pumps the child's output and hands the ready line over through a future;
 * the shutdown hook only kills the process. Every field is final.
 */
final class ChildProcess implements AutoCloseable {
    static final String READY = "READY ";

    private final String name;
    private final Process process;
    private final Path log;
    private final String address;
    private final Thread hook;

    private ChildProcess(String name, Process process, Path log, String address) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.address = address;
        this.hook = new Thread(this::kill, "stop-" + name);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Starts a command and waits for its {@code READY} line.
     *
     * @param readyLine for a process that does not print {@code READY} (redis-server): the text of the line
     *                  that says it is ready, and {@code address} is then what {@link #address()} returns
     */
    static ChildProcess start(String name, List<String> command, Path log, Duration startTimeout,
            @Nullable String readyLine, @Nullable String address) {
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + " (" + command.get(0) + ")", e);
        }
        CompletableFuture<String> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> pump(process, log, ready, readyLine, address), name + "-output");
        reader.setDaemon(true);
        reader.start();
        try {
            String found = ready.get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
            return new ChildProcess(name, process, log, found);
        } catch (TimeoutException | ExecutionException | RuntimeException e) {
            process.destroyForcibly();
            throw new IllegalStateException(name + " did not start within " + startTimeout + "; see " + log, e);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + name, e);
        }
    }

    /** The command that runs {@code mainClass} in a new JVM with this JVM's classpath. */
    static List<String> javaCommand(List<String> jvmOptions, Class<?> mainClass, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return command;
    }

    private static void pump(Process process, Path log, CompletableFuture<String> ready,
            @Nullable String readyLine, @Nullable String address) {
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                var out = java.nio.file.Files.newBufferedWriter(log, StandardCharsets.UTF_8,
                        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND)) {
            String line;
            while ((line = in.readLine()) != null) {
                if (!ready.isDone()) {
                    if (readyLine == null && line.startsWith(READY)) {
                        ready.complete(line.substring(READY.length()).trim());
                        continue;
                    }
                    if (readyLine != null && line.contains(readyLine) && address != null) {
                        ready.complete(address);
                    }
                }
                out.write(line);
                out.newLine();
                out.flush();
            }
            ready.completeExceptionally(new IllegalStateException("exited with " + process.waitFor()));
        } catch (IOException | InterruptedException | RuntimeException e) {
            ready.completeExceptionally(e);
        }
    }

    String name() {
        return name;
    }

    /** What the child announced: {@code host:port} or a connect string. */
    String address() {
        return address;
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    /** Stops the process: politely, then forcibly after five seconds. */
    @Override
    public void close() {
        kill();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down; the hook runs (or ran) kill() too
        }
    }

    private void kill() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
