package dev.locking.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Counters in a small memory-mapped file that every JVM of a cross-process workload maps, so a section
 * entered in one process is seen by all: per key, how many holders are inside (an entry that finds someone
 * inside is an overlap), and one counter incremented without any synchronisation of its own (a read, then
 * a write), whose lost updates show a lock that let two holders in at once.
 *
 * <p>Concurrency: shared by the worker threads of this JVM and of the other JVMs mapping the same file.
 * Every access goes through a {@link VarHandle} view of the mapping: the inside counts with atomic
 * {@code getAndAdd} (atomic across processes on a shared mapping), the unsynchronised counter with volatile
 * reads and writes, so only the lock under test orders its read-modify-write. The mapping itself is
 * immutable after construction.
 */
final class SharedCounters {
    /** Keys with an inside count: W8's 16 (W7 uses the first). */
    static final int KEYS = 16;
    private static final int COUNTER = KEYS;
    private static final int BYTES = (KEYS + 1) * Integer.BYTES;
    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    private final MappedByteBuffer buffer;

    private SharedCounters(MappedByteBuffer buffer) {
        this.buffer = buffer;
    }

    /** Maps the file (created, zero-filled, if absent). */
    static SharedCounters open(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            // The mapping stays valid after the channel is closed.
            return new SharedCounters(channel.map(FileChannel.MapMode.READ_WRITE, 0, BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + file, e);
        }
    }

    /**
     * Counts a holder in on {@code key}.
     *
     * @return whether someone else was inside already (an overlap)
     */
    boolean enter(int key) {
        return (int) INTS.getAndAdd(buffer, index(key), 1) != 0;
    }

    /** Counts a holder out of {@code key}. */
    void leave(int key) {
        INTS.getAndAdd(buffer, index(key), -1);
    }

    /** How many holders are inside {@code key} now. */
    int inside(int key) {
        return (int) INTS.getVolatile(buffer, index(key));
    }

    /** Adds one to the counter with a plain read and write: correct only under a lock that excludes. */
    void incrementUnsynchronised() {
        int now = (int) INTS.getVolatile(buffer, COUNTER * Integer.BYTES);
        INTS.setVolatile(buffer, COUNTER * Integer.BYTES, now + 1);
    }

    /** The counter's value. */
    int counter() {
        return (int) INTS.getVolatile(buffer, COUNTER * Integer.BYTES);
    }

    private static int index(int key) {
        if (key < 0 || key >= KEYS) {
            throw new IllegalArgumentException("key index out of range: " + key);
        }
        return key * Integer.BYTES;
    }
}
