package dev.locking.zookeeper;

import static dev.locking.zookeeper.LockPaths.LOCKS;
import static dev.locking.zookeeper.LockPaths.OWNERS;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The provider's Curator client and ZooKeeper session: starts the client on first use (or takes the
 * application's), waits for a connection, creates the layout nodes, counts session generations and
 * closes.
 *
 * <p>Curator reports SUSPENDED when the connection drops ("not sure": calls wait up to the connection
 * timeout for it to come back, then fail with {@link ProviderUnavailableException}) and LOST when the
 * session has expired ("gone": every ephemeral node of the session is deleted, or will be). On LOST the
 * {@linkplain #generation() generation} goes up, so that {@code extend} of an {@code execute} owner whose
 * locks were taken in an earlier generation returns false at once; waiters are woken on LOST and on
 * RECONNECTED.
 *
 * <p>Concurrency: {@link #started} is written once, under {@link #lifecycle}, and read without it
 * (volatile); {@link #closed} is set under {@link #lifecycle} and read without it (volatile). The layout is
 * created under {@link #layoutLock}; {@link #layoutReady} is volatile so that calls skip the lock once it
 * is there. The generation is an atomic counter bumped by Curator's event thread.
 */
final class ZookeeperSession {
    private static final Logger log = LoggerFactory.getLogger(ZookeeperSession.class);

    /** The running client: the root client and its namespaced view. */
    private record Started(CuratorFramework root, CuratorFramework ns, Duration connectionTimeout) {}

    private final String id;
    private final String namespace;
    private final @Nullable ZookeeperOptions options;
    private final @Nullable CuratorFramework givenClient;
    private final LocksEpoch epoch;
    private final ZookeeperFailures failures;
    private final IntSupplier executeOwners;
    private final Runnable wakeEveryone;
    private final ConnectionStateListener stateListener = this::stateChanged;
    private final AtomicLong generation = new AtomicLong();

    private final Object lifecycle = new Object();
    private volatile @Nullable Started started;
    private volatile boolean closed;

    private final Object layoutLock = new Object();
    private volatile boolean layoutReady;
    /** Whether the namespace's ACL was checked (once). */
    @GuardedBy("layoutLock")
    private boolean aclChecked;

    /**
     * @param executeOwners how many {@code execute} owners hold locks (for the log line on session loss)
     * @param wakeEveryone  wakes every waiter of this provider
     */
    ZookeeperSession(String id, String namespace, @Nullable ZookeeperOptions options,
            @Nullable CuratorFramework givenClient, LocksEpoch epoch, IntSupplier executeOwners,
            Runnable wakeEveryone) {
        this.id = id;
        this.namespace = namespace;
        this.options = options;
        this.givenClient = givenClient;
        this.epoch = epoch;
        this.failures = new ZookeeperFailures(id, namespace, options, this::isClosed);
        this.executeOwners = executeOwners;
        this.wakeEveryone = wakeEveryone;
    }

    /** The failure mapping of this provider, which says "closed" once this session is. */
    ZookeeperFailures failures() {
        return failures;
    }

    boolean isClosed() {
        return closed;
    }

    /** The number of sessions lost so far: locks taken in an earlier generation are gone. */
    long generation() {
        return generation.get();
    }

    /** The namespaced client, started and connected, with the layout nodes in place. */
    CuratorFramework ready() {
        Started s = started;
        if (s == null) {
            s = start();
        }
        if (closed) {
            throw new IllegalStateException(id + " is closed");
        }
        if (!s.root.getZookeeperClient().isConnected()) {
            boolean connected;
            try {
                connected = s.root.blockUntilConnected(
                        (int) s.connectionTimeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LockingException(id + ": interrupted while connecting to ZooKeeper", e);
            }
            if (!connected) {
                throw new ProviderUnavailableException(id + ": no ZooKeeper server answered within "
                        + s.connectionTimeout + " (" + failures.describe() + ")");
            }
        }
        if (!layoutReady) {
            try {
                ensureLayout(s.ns);
            } catch (Exception e) {
                throw failures.failure("preparing /" + namespace + " on", List.of(), e);
            }
        }
        return s.ns;
    }

    /** After a write found a layout node missing (deleted behind this provider's back): creates it again. */
    void layoutLost(CuratorFramework ns) throws Exception {
        layoutReady = false;
        ensureLayout(ns);
    }

    /** The id of the current ZooKeeper session (the client is started). */
    long sessionId() throws Exception {
        Started s = Objects.requireNonNull(started);
        return s.root.getZookeeperClient().getZooKeeper().getSessionId();
    }

    /** The root client once started, else null (for tests that expire its session). */
    @Nullable CuratorFramework startedClient() {
        Started s = started;
        return s == null ? null : s.root;
    }

    /**
     * Closes once: wakes every waiter, stops listening and, for a client of its own, closes it (which ends
     * the session).
     *
     * @return false if it was closed already
     */
    boolean close() {
        Started s;
        synchronized (lifecycle) {
            if (closed) {
                return false;
            }
            closed = true;
            s = started;
        }
        wakeEveryone.run();
        if (s != null) {
            s.root.getConnectionStateListenable().removeListener(stateListener);
            if (givenClient == null) {
                // Ends the session: ZooKeeper deletes this provider's ephemeral (execute) locks at once.
                s.root.close();
            }
        }
        return true;
    }

    private Started start() {
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException(id + " is closed");
            }
            Started s = started;
            if (s != null) {
                return s;
            }
            CuratorFramework root;
            Duration connectionTimeout;
            if (givenClient != null) {
                root = givenClient;
                if (root.getState() != CuratorFrameworkState.STARTED) {
                    throw new IllegalStateException(id + ": the CuratorFramework given to the provider is "
                            + root.getState() + "; start it before the first lock call");
                }
                connectionTimeout = Duration.ofMillis(root.getZookeeperClient().getConnectionTimeoutMs());
            } else {
                ZookeeperOptions o = Objects.requireNonNull(options);
                root = newClient(o);
                connectionTimeout = o.connectionTimeout();
            }
            root.getConnectionStateListenable().addListener(stateListener);
            if (givenClient == null) {
                log.info("{}: connecting to ZooKeeper ({})", id, failures.describe());
                root.start();
            }
            CuratorFramework ns = root.usingNamespace(namespace);
            s = new Started(root, ns, connectionTimeout);
            started = s;
            return s;
        }
    }

    private static CuratorFramework newClient(ZookeeperOptions o) {
        CuratorFrameworkFactory.Builder builder = CuratorFrameworkFactory.builder()
                .connectString(o.connectString())
                .sessionTimeoutMs((int) o.sessionTimeout().toMillis())
                .connectionTimeoutMs((int) o.connectionTimeout().toMillis())
                // One retry: a call fails within about twice the connection timeout when no server answers.
                .retryPolicy(new RetryNTimes(1, 250));
        String auth = o.auth();
        if (auth != null) {
            builder.authorization("digest", auth.getBytes(StandardCharsets.UTF_8)).aclProvider(new DigestAcl());
        }
        return builder.build();
    }

    private void ensureLayout(CuratorFramework ns) throws Exception {
        synchronized (layoutLock) {
            if (!layoutReady) {
                createLayout(ns);
            }
        }
    }

    @GuardedBy("layoutLock")
    private void createLayout(CuratorFramework ns) throws Exception {
        for (String path : List.of(LOCKS, OWNERS, InstanceMarkers.INSTANCES)) {
            // Look first: a client without the credentials of an ACL-protected namespace may not even try.
            if (ns.checkExists().forPath(path) == null) {
                try {
                    ns.create().creatingParentsIfNeeded().withMode(CreateMode.PERSISTENT).forPath(path);
                } catch (KeeperException.NodeExistsException e) {
                    // Created meanwhile by another client.
                }
            }
        }
        epoch.refresh(ns);
        if (options != null && options.auth() != null && !aclChecked) {
            aclChecked = true;
            for (ACL acl : ns.getACL().forPath(LOCKS)) {
                int writes = ZooDefs.Perms.CREATE | ZooDefs.Perms.DELETE;
                if ("world".equals(acl.getId().getScheme()) && (acl.getPerms() & writes) != 0) {
                    log.warn("{}: /{}{} was created without credentials and lets any client create and delete"
                            + " lock nodes; auth protects only nodes created with it. Restrict it with setAcl"
                            + " or use a new namespace", id, namespace, LOCKS);
                }
            }
        }
        layoutReady = true;
    }

    private void stateChanged(CuratorFramework client, ConnectionState state) {
        switch (state) {
            case LOST -> {
                generation.incrementAndGet();
                int owners = executeOwners.getAsInt();
                if (owners > 0) {
                    log.warn("{}: the ZooKeeper session was lost; the {} execute lock(s) taken in it are gone and"
                            + " their jobs' handles turn lost", id, owners);
                } else {
                    log.warn("{}: the ZooKeeper session was lost", id);
                }
                wakeEveryone.run();
            }
            case SUSPENDED -> log.warn("{}: connection to ZooKeeper suspended; calls wait up to the connection"
                    + " timeout for it to come back", id);
            case RECONNECTED -> {
                log.info("{}: reconnected to ZooKeeper", id);
                wakeEveryone.run();
            }
            default -> {
                // CONNECTED, READ_ONLY: nothing to do.
            }
        }
    }
}
