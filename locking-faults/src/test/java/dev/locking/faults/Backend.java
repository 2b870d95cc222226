package dev.locking.faults;

/** A backend server the suite owns and can crash, restart, freeze and thaw. */
interface Backend extends AutoCloseable {
    /** A short name for reports: "redis-server", "ZooKeeper". */
    String name();

    /** Kills the server at once (SIGKILL) and waits until it is gone. */
    void kill() throws InterruptedException;

    /** Starts it again on the same port (and data directory) and waits until it serves. */
    void begin();

    /** Freezes the server (SIGSTOP). */
    void freeze();

    /** Lets a frozen server run again (SIGCONT). */
    void thaw();

    @Override
    void close();
}
