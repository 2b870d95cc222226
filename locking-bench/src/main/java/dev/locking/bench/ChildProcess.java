package dev.locking.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;

/**
 * A backend server in a process of its own: a {@code redis-server}, or a child JVM running one of this
 * module's server mains. It is stopped by {@link #close()}, and by a shutdown hook if the bench dies first;
 * a child JVM also stops by itself when its standard input closes, that is when this JVM is gone.
 *
 * <p>A child announces that it is ready with one line {@code READY <address>} on its standard output; what
 * it prints otherwise goes to its log file, except lines that start with {@code BENCH }: those are answers to
 * what {@link #send} asked (the workers of the cross-process workloads), read with {@link #reply}.
 *
 * <p>Concurrency: a reader thread per child puts the answers into a blocking queue; {@link #send} and
 * {@link #reply} are called by one thread, the bench's; the shutdown hook only kills the process.
 */
final class ChildProcess implements AutoCloseable {
    static final String READY = "READY ";
    /** The start of a line that answers a command. */
    static final String REPLY = "BENCH ";
    /** What the queue holds once the child's output ended. */
    private static final String ENDED = "\u0000ended";

    private final String name;
    private final Process process;
    private final Path log;
    private final String address;
    private final Thread hook;
    private final BlockingQueue<String> replies;

    private ChildProcess(String name, Process process, Path log, String address, BlockingQueue<String> replies) {
        this.name = name;
        this.replies = replies;
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
        BlockingQueue<String> replies = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> pump(process, log, ready, readyLine, address, replies), name + "-output");
        reader.setDaemon(true);
        reader.start();
        try {
            String found = ready.get(startTimeout.toMillis(), TimeUnit.MILLISECONDS);
            return new ChildProcess(name, process, log, found, replies);
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
            @Nullable String readyLine, @Nullable String address, BlockingQueue<String> replies) {
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
                } else if (line.startsWith(REPLY)) {
                    replies.add(line.substring(REPLY.length()));
                    continue;
                }
                out.write(line);
                out.newLine();
                out.flush();
            }
            ready.completeExceptionally(new IllegalStateException("exited with " + process.waitFor()));
        } catch (IOException | InterruptedException | RuntimeException e) {
            ready.completeExceptionally(e);
        } finally {
            replies.add(ENDED);
        }
    }

    /** Writes one line to the child's standard input. */
    void send(String line) {
        try {
            OutputStream in = process.getOutputStream();
            in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(name + " does not take commands any more; see " + log, e);
        }
    }

    /**
     * The next answer of the child (a line that started with {@code BENCH }, without it).
     *
     * @throws IllegalStateException if none comes within {@code timeout} or the child's output ended
     */
    String reply(Duration timeout) {
        String line;
        try {
            line = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name, e);
        }
        if (line == null) {
            throw new IllegalStateException(name + " did not answer within " + timeout + "; see " + log);
        }
        if (line.equals(ENDED)) {
            replies.add(ENDED);
            throw new IllegalStateException(name + " exited; see " + log);
        }
        return line;
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
