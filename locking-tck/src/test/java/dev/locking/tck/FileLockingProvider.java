package dev.locking.tck;

import dev.locking.api.LockInfo;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A small provider whose backend is a directory: every client (in any JVM) that points at the same
 * directory shares its locks. It exists so that the kit's groups for distributed providers (two clients,
 * several JVMs, backend down) run in this module's own build. Not for production: every call reads and
 * rewrites one file under an OS file lock, and awaitRelease polls.
 *
 * <p>State, in {@code state.properties}: {@code counter} (the last fencing token, provider-wide) and one
 * entry {@code k.<key>} = {@code <token>,<expiresAtMillis or -1>,<'-' or '+' followed by the owner>} per
 * held key. An entry of another shape is foreign data: it is kept as it is, and calls on its key fail with a
 * {@link LockingException} naming the key before anything is written, while other keys work as before.
 */
final class FileLockingProvider implements LockingProvider {
    /** FileChannel locks are per JVM, not per thread: threads of one JVM queue here first. */
    private static final Map<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

    private final String id;
    private final @Nullable Path directory;

    FileLockingProvider(String id, @Nullable Path directory) {
        this.id = id;
        this.directory = directory;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
        return update(state -> {
            long now = System.currentTimeMillis();
            for (String key : keys) {
                Rec rec = state.live(key, now);
                if (rec != null && (ownerId == null || !ownerId.equals(rec.owner))) {
                    return new AcquireResult.Conflict(key);
                }
            }
            Map<String, Long> tokens = new HashMap<>();
            long expires = -1;
            boolean first = true;
            for (String key : keys) {
                Rec rec = state.live(key, now);
                long newExpiry = lease != null ? now + lease.toMillis() : rec != null ? rec.expires : -1;
                long token = rec != null ? rec.token : ++state.counter;
                state.put(key, new Rec(token, newExpiry, ownerId));
                tokens.put(key, token);
                if (first) {
                    expires = newExpiry;
                    first = false;
                }
            }
            return new AcquireResult.Acquired(tokens, expires < 0 ? null : Instant.ofEpochMilli(expires));
        });
    }

    @Override
    public boolean extend(List<String> keys, String ownerId, Duration lease) {
        return update(state -> {
            long now = System.currentTimeMillis();
            for (String key : keys) {
                Rec rec = state.live(key, now);
                if (rec == null || !ownerId.equals(rec.owner)) {
                    return false;
                }
            }
            for (String key : keys) {
                Rec rec = state.live(key, now);
                if (rec != null) {
                    state.put(key, new Rec(rec.token, now + lease.toMillis(), rec.owner));
                }
            }
            return true;
        });
    }

    @Override
    public boolean release(List<String> keys, @Nullable String ownerId) {
        return update(state -> {
            long now = System.currentTimeMillis();
            boolean all = true;
            for (String key : keys) {
                Rec rec = state.live(key, now);
                if (rec != null && (rec.owner == null || rec.owner.equals(ownerId))) {
                    state.remove(key);
                } else {
                    all = false;
                }
            }
            return all;
        });
    }

    @Override
    public void releaseAll(@Nullable String ownerId) {
        update(state -> {
            state.locks.entrySet().removeIf(e -> ownerId == null || ownerId.equals(e.getValue().owner));
            state.dirty = true;
            return true;
        });
    }

    @Override
    public Optional<LockInfo> inspect(String key) {
        return update(state -> {
            Rec rec = state.live(key, System.currentTimeMillis());
            return rec == null ? Optional.<LockInfo>empty()
                    : Optional.of(new LockInfo(key, rec.owner, rec.expires < 0 ? null : Instant.ofEpochMilli(rec.expires),
                            rec.token));
        });
    }

    /** Polls every 10 ms until one of the keys is free: there is no notification across processes here. */
    @Override
    public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
        long deadline = System.nanoTime() + maxWait.toNanos();
        while (true) {
            boolean anyFree;
            try {
                anyFree = update(state -> {
                    long now = System.currentTimeMillis();
                    return keys.stream().anyMatch(k -> state.live(k, now) == null);
                });
            } catch (ProviderUnavailableException e) {
                // File channels give up on interrupt (ClosedByInterruptException and kin), leaving the flag set.
                if (Thread.interrupted()) {
                    InterruptedException interrupted = new InterruptedException("interrupted while polling " + keys);
                    interrupted.initCause(e);
                    throw interrupted;
                }
                throw e;
            }
            if (anyFree || System.nanoTime() - deadline >= 0) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    @Override
    public void close() {}

    /** Writes an entry this provider cannot read as a lock at {@code key}, as a foreign program would. */
    void plantForeignData(String key) {
        update(state -> {
            state.foreign.put(key, "not a lock");
            state.locks.remove(key);
            state.dirty = true;
            return true;
        });
    }

    private <T> T update(Function<State, T> operation) {
        Path dir = directory;
        if (dir == null) {
            throw new ProviderUnavailableException("provider " + id + " has no directory option");
        }
        ReentrantLock jvmLock = IN_JVM.computeIfAbsent(dir.toAbsolutePath().normalize(), d -> new ReentrantLock());
        jvmLock.lock();
        try {
            Files.createDirectories(dir);
            try (FileChannel channel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE)) {
                channel.lock(); // held until the channel closes
                State state = State.read(dir.resolve("state.properties"));
                T result = operation.apply(state);
                if (state.dirty) {
                    state.write(dir);
                }
                return result;
            }
        } catch (IOException e) {
            throw new ProviderUnavailableException("provider " + id + " cannot use its directory: " + e, e);
        } finally {
            jvmLock.unlock();
        }
    }

    private record Rec(long token, long expires, @Nullable String owner) {}

    private static final class State {
        final Map<String, Rec> locks = new HashMap<>();
        /** Entries that are not locks, by key, kept verbatim. */
        final Map<String, String> foreign = new HashMap<>();
        long counter;
        boolean dirty;

        /** The live lock of {@code key}; throws (so that the operation writes nothing) on foreign data. */
        @Nullable Rec live(String key, long now) {
            String alien = foreign.get(key);
            if (alien != null) {
                throw new LockingException("the state file holds data at key \"" + key
                        + "\" that is not a lock of this provider: \"" + alien + "\"");
            }
            Rec rec = locks.get(key);
            if (rec != null && rec.expires >= 0 && rec.expires <= now) {
                locks.remove(key);
                dirty = true;
                return null;
            }
            return rec;
        }

        void put(String key, Rec rec) {
            locks.put(key, rec);
            dirty = true;
        }

        void remove(String key) {
            locks.remove(key);
            dirty = true;
        }

        static State read(Path file) throws IOException {
            State state = new State();
            if (!Files.exists(file)) {
                return state;
            }
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(in);
            }
            state.counter = Long.parseLong(p.getProperty("counter", "0"));
            for (String name : p.stringPropertyNames()) {
                if (name.startsWith("k.")) {
                    String v = p.getProperty(name);
                    Rec rec = parse(v);
                    if (rec == null) {
                        state.foreign.put(name.substring(2), v);
                    } else {
                        state.locks.put(name.substring(2), rec);
                    }
                }
            }
            return state;
        }

        /** A lock entry, or null when the value has another shape. */
        private static @Nullable Rec parse(String v) {
            int c1 = v.indexOf(',');
            int c2 = c1 < 0 ? -1 : v.indexOf(',', c1 + 1);
            if (c2 < 0 || c2 + 1 >= v.length() || (v.charAt(c2 + 1) != '-' && v.charAt(c2 + 1) != '+')) {
                return null;
            }
            try {
                String owner = v.charAt(c2 + 1) == '-' ? null : v.substring(c2 + 2);
                return new Rec(Long.parseLong(v.substring(0, c1)), Long.parseLong(v.substring(c1 + 1, c2)), owner);
            } catch (NumberFormatException e) {
                return null;
            }
        }

        void write(Path dir) throws IOException {
            Properties p = new Properties();
            p.setProperty("counter", Long.toString(counter));
            foreign.forEach((k, v) -> p.setProperty("k." + k, v));
            locks.forEach((k, r) -> p.setProperty("k." + k,
                    r.token + "," + r.expires + "," + (r.owner == null ? "-" : "+" + r.owner)));
            Path tmp = dir.resolve("state.tmp");
            try (Writer out = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(out, null);
            }
            Files.move(tmp, dir.resolve("state.properties"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
