package dev.locking.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/** Sends POSIX signals to a process through {@code kill}: the JDK can kill a process but not pause it. */
final class Signals {
    private Signals() {}

    /** Freezes the process (SIGSTOP): it keeps its sockets and memory but runs no instruction. */
    static void stop(long pid) {
        send("-STOP", pid);
    }

    /** Lets a frozen process run again (SIGCONT). */
    static void cont(long pid) {
        send("-CONT", pid);
    }

    private static void send(String signal, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill " + signal + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run kill " + signal + " " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted sending " + signal + " to " + pid, e);
        }
    }
}
