package dev.locking.memory;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.locking.api.LockInfo;
import dev.locking.spi.AcquireResult;
import dev.locking.spi.LockingProvider;
import dev.locking.spi.support.LockingClock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One lock table per instance id for the whole JVM: every provider the factory creates for {@code lp_memory}
 * (in any {@code LockingService} of this JVM) works on the same {@link MemoryLockingProvider}, so two
 * services exclude each other as two clients of one Redis would.
 *
 * <p>The table lives while at least one provider of its id is open; closing the last one drops it (and its
 * locks), so a JVM that builds and closes services does not keep tables of services long gone. The first
 * provider of an id fixes its options; a later one asking for others gets the table as it is (logged).
 *
 * <p>Concurrency: the registry and each table's count of users are guarded by the registry's monitor,
 * taken only when a provider is created or closed; lock operations go straight to the shared table (which
 * is safe for concurrent use). A view's {@code closed} flag is an atomic, so it closes its table once.
 */
final class JvmWideTables {
    private static final System.Logger LOG = System.getLogger(JvmWideTables.class.getName());

    @GuardedBy("TABLES")
    private static final Map<String, Table> TABLES = new HashMap<>();

    private JvmWideTables() {}

    private static final class Table {
        final MemoryLockingProvider shared;
        @GuardedBy("JvmWideTables.TABLES")
        int users;

        Table(MemoryLockingProvider shared) {
            this.shared = shared;
        }
    }

    /** Returns a new provider on the JVM's table of that id, creating the table if none is open. */
    static LockingProvider open(String id, Duration sweepInterval) {
        synchronized (TABLES) {
            Table table = TABLES.get(id);
            if (table == null) {
                table = new Table(new MemoryLockingProvider(id, LockingClock.SYSTEM, sweepInterval,
                        MemoryLockingProvider.DEFAULT_WAIT_SLICE));
                TABLES.put(id, table);
            } else if (!table.shared.sweepInterval().equals(sweepInterval)) {
                LOG.log(System.Logger.Level.WARNING, "Locking provider {0} is already open in this JVM with"
                        + " sweepInterval {1}; the table is shared, so {2} asked for here does not apply",
                        id, table.shared.sweepInterval(), sweepInterval);
            }
            table.users++;
            return new View(id, table);
        }
    }

    private static void close(String id, Table table) {
        synchronized (TABLES) {
            if (--table.users > 0) {
                return;
            }
            TABLES.remove(id, table);
        }
        table.shared.close();
    }

    /** One service's provider on a shared table; closing it closes only itself. */
    static final class View implements LockingProvider {
        private final String id;
        private final Table table;
        private final AtomicBoolean closed = new AtomicBoolean();

        View(String id, Table table) {
            this.id = id;
            this.table = table;
        }

        /** The table this view works on; for tests. */
        MemoryLockingProvider table() {
            return table.shared;
        }

        private MemoryLockingProvider open() {
            if (closed.get()) {
                throw new IllegalStateException("Provider " + id + " is closed");
            }
            return table.shared;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public AcquireResult tryAcquire(List<String> keys, @Nullable String ownerId, @Nullable Duration lease) {
            return open().tryAcquire(keys, ownerId, lease);
        }

        @Override
        public boolean extend(List<String> keys, String ownerId, Duration lease) {
            return open().extend(keys, ownerId, lease);
        }

        @Override
        public boolean release(List<String> keys, @Nullable String ownerId) {
            return open().release(keys, ownerId);
        }

        @Override
        public void releaseAll(@Nullable String ownerId) {
            open().releaseAll(ownerId);
        }

        @Override
        public Optional<LockInfo> inspect(String key) {
            return open().inspect(key);
        }

        @Override
        public void awaitRelease(List<String> keys, Duration maxWait) throws InterruptedException {
            open().awaitRelease(keys, maxWait);
        }

        /** As the shared table: true. Without these four, the factory's lp_memory would never hand off. */
        @Override
        public boolean handsOff() {
            return table.shared.handsOff();
        }

        @Override
        public AcquireResult acquireOrQueue(String key, String ownerId, Duration lease, Duration stay) {
            return open().acquireOrQueue(key, ownerId, lease, stay);
        }

        @Override
        public AcquireResult.@Nullable Acquired awaitGrant(String key, String ownerId, Duration maxWait)
                throws InterruptedException {
            return open().awaitGrant(key, ownerId, maxWait);
        }

        @Override
        public void leaveQueue(String key, String ownerId) {
            open().leaveQueue(key, ownerId);
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                JvmWideTables.close(id, table);
            }
        }

        @Override
        public String toString() {
            return table.shared + " (shared by this JVM's services)";
        }
    }
}
