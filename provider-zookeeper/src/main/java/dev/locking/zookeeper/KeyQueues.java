package dev.locking.zookeeper;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;

/**
 * The queues of waiting owners, one per key, and how they are read.
 *
 * <pre>
 * /queues/&lt;key&gt;                         a container node per key with waiters (ZooKeeper deletes it once empty)
 * /queues/&lt;key&gt;/&lt;owner&gt;~&lt;sequence&gt;      one entry per waiting owner: EPHEMERAL_SEQUENTIAL, data = {@link QueueEntry}
 * </pre>
 * The sequence (ten digits, given by the server) orders the entries by arrival; a refresh sets the entry's
 * data and keeps its place. Every new entry also sets the data of {@code /queues/<key>} in its transaction, so
 * that node's data version counts the joins: a transaction that decided from a read of the queue (a release
 * that hands off, an owner that takes a free key) checks that version and fails if someone joined since. An entry is ephemeral, so the entries of a process whose session ended go with
 * it; an entry whose owner stopped calling lapses at the time in its data and is skipped (and deleted) by
 * the next hand-off. Key and owner are {@link Segments#encode encoded} segments, which never contain
 * {@code ~}, so the owner part of a name is exact.
 *
 * <p>Stateless: every method works on the namespaced client it is given.
 */
final class KeyQueues {
    static final String QUEUES = "/queues";
    private static final char SEPARATOR = '~';
    private static final int SEQUENCE_DIGITS = 10;
    private static final Comparator<String> BY_ARRIVAL = Comparator.comparing(KeyQueues::sequence);

    private KeyQueues() {}

    static String queuePath(String key) {
        return QUEUES + "/" + Segments.encode(key);
    }

    /** The path an owner's new entry is created with; the server appends the sequence. */
    static String entryPrefix(String key, String ownerId) {
        return queuePath(key) + "/" + Segments.encode(ownerId) + SEPARATOR;
    }

    /**
     * A key as read: its lock node, the data version of its queue node ({@code -1} when there is none) and the
     * names of its queue's entries, in order of arrival.
     */
    record KeyView(String key, String segment, @Nullable LockNode lock, int queueVersion, List<String> entries) {
        String lockPath() {
            return LockPaths.LOCKS + "/" + segment;
        }

        /** Adds to a transaction decided from this read: no owner joined the queue since (if it had a node). */
        void checkNoJoin(TransactionPlan plan) throws Exception {
            if (queueVersion >= 0) {
                plan.checkQueue(queuePath(), queueVersion);
            }
        }

        String queuePath() {
            return QUEUES + "/" + segment;
        }

        /** The path of the first child of the queue whose name is not an entry's, or {@code null}. */
        @Nullable String foreignChild() {
            for (String name : entries) {
                int at = name.length() - SEQUENCE_DIGITS - 1;
                if (at <= 0 || name.charAt(at) != SEPARATOR
                        || !name.substring(at + 1).chars().allMatch(c -> c >= '0' && c <= '9')) {
                    return ZKPaths.makePath(queuePath(), name);
                }
            }
            return null;
        }

        /** The path of the owner's entry, or {@code null} if it has none. */
        @Nullable String entryOf(String ownerId) {
            String prefix = Segments.encode(ownerId) + SEPARATOR;
            for (String name : entries) {
                if (name.startsWith(prefix) && name.length() == prefix.length() + SEQUENCE_DIGITS) {
                    return ZKPaths.makePath(queuePath(), name);
                }
            }
            return null;
        }
    }

    /** A queue entry as read; {@code data} is null for a node this provider did not write. */
    record Entry(String path, @Nullable QueueEntry data, Stat stat) {}

    /** Reads the keys' lock nodes and queues with one read-only {@code multi}: one round trip. */
    static List<KeyView> read(CuratorFramework ns, List<String> keys) throws Exception {
        List<String> segments = new ArrayList<>(keys.size());
        for (String key : keys) {
            segments.add(Segments.encode(key));
        }
        return read(ns, keys, segments);
    }

    /**
     * Reads keys given as their segments (the names in an owner's index), as {@link #read(CuratorFramework, List)}
     * does; each view's {@code key} is the segment.
     */
    static List<KeyView> readSegments(CuratorFramework ns, List<String> segments) throws Exception {
        return read(ns, segments, segments);
    }

    private static List<KeyView> read(CuratorFramework ns, List<String> keys, List<String> segments)
            throws Exception {
        String base = ns.getNamespace();
        List<Op> ops = new ArrayList<>(3 * keys.size());
        for (String segment : segments) {
            ops.add(Op.getData(ZKPaths.fixForNamespace(base, LockPaths.LOCKS + "/" + segment)));
            ops.add(Op.getData(ZKPaths.fixForNamespace(base, QUEUES + "/" + segment)));
            ops.add(Op.getChildren(ZKPaths.fixForNamespace(base, QUEUES + "/" + segment)));
        }
        List<OpResult> results = FreshReads.multiRead(ns, ops, false);
        List<KeyView> views = new ArrayList<>(keys.size());
        for (int i = 0; i < keys.size(); i++) {
            String segment = segments.get(i);
            LockNode lock = null;
            OpResult data = results.get(3 * i);
            if (data instanceof OpResult.GetDataResult d) {
                lock = LockNode.of(d.getData(), d.getStat());
            } else {
                failUnlessMissing(data, LockPaths.LOCKS + "/" + segment);
            }
            int queueVersion = -1;
            OpResult queue = results.get(3 * i + 1);
            if (queue instanceof OpResult.GetDataResult q) {
                queueVersion = q.getStat().getVersion();
            } else {
                failUnlessMissing(queue, QUEUES + "/" + segment);
            }
            List<String> entries = new ArrayList<>();
            OpResult children = results.get(3 * i + 2);
            if (children instanceof OpResult.GetChildrenResult c) {
                entries.addAll(c.getChildren());
                entries.sort(BY_ARRIVAL);
            } else {
                failUnlessMissing(children, QUEUES + "/" + segment);
            }
            views.add(new KeyView(keys.get(i), segment, lock, queueVersion, List.copyOf(entries)));
        }
        return views;
    }

    /**
     * Reads the data of entries with one read-only {@code multi}; entries deleted meanwhile are left out.
     *
     * @param names entry names under the key's queue, in order
     */
    static List<Entry> readEntries(CuratorFramework ns, String queuePath, List<String> names) throws Exception {
        if (names.isEmpty()) {
            return List.of();
        }
        String base = ns.getNamespace();
        List<Op> ops = new ArrayList<>(names.size());
        for (String name : names) {
            ops.add(Op.getData(ZKPaths.fixForNamespace(base, ZKPaths.makePath(queuePath, name))));
        }
        List<OpResult> results = FreshReads.multiRead(ns, ops, false);
        List<Entry> entries = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            String path = ZKPaths.makePath(queuePath, names.get(i));
            if (results.get(i) instanceof OpResult.GetDataResult d) {
                QueueEntry data = QueueEntry.parse(d.getData());
                boolean named = data != null && names.get(i).startsWith(Segments.encode(data.owner()) + SEPARATOR);
                entries.add(new Entry(path, named ? data : null, d.getStat()));
            } else {
                failUnlessMissing(results.get(i), path);
            }
        }
        return entries;
    }

    /** The names of entries up to and including the owner's (all of them if it has none). */
    static List<String> upToOwn(KeyView view, String ownerId) {
        String own = view.entryOf(ownerId);
        if (own == null) {
            return view.entries();
        }
        String ownName = ZKPaths.getNodeFromPath(own);
        return view.entries().subList(0, view.entries().indexOf(ownName) + 1);
    }

    private static String sequence(String name) {
        return name.length() < SEQUENCE_DIGITS ? name : name.substring(name.length() - SEQUENCE_DIGITS);
    }

    private static void failUnlessMissing(OpResult result, String path) throws KeeperException {
        int err = result instanceof OpResult.ErrorResult error ? error.getErr()
                : KeeperException.Code.SYSTEMERROR.intValue();
        if (err != KeeperException.Code.NONODE.intValue()) {
            throw KeeperException.create(KeeperException.Code.get(err), path);
        }
    }
}
