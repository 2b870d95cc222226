package dev.locking.zookeeper;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.curator.utils.ZKPaths;
import org.jspecify.annotations.Nullable;

/**
 * The instance marker: what makes a conditional write hit the exact lock node it judged, and no node
 * created at the same path since.
 *
 * <p>ZooKeeper checks a write against a node's data version only, and a node created again at a path
 * starts again at version 0. So a client that read a lapsed node at version 1 and deletes it "at version 1"
 * also deletes the node another client created there a moment later (its version is 1 too, after the
 * transaction that reports its zxid): both think they took the lock (ABA). A version says nothing about
 * which node it belongs to.
 *
 * <p>So every lock node has a twin, created and deleted in the same transaction and with the same mode
 * (ephemeral for {@code execute} locks, so ZooKeeper removes both together when the session ends):
 * <pre>
 * /locks/&lt;key&gt;                      the lock; its data names its instance id
 * /instances/&lt;key&gt;~&lt;instance id&gt;     the marker, empty
 * </pre>
 * An instance id is never used twice (the acquire call's random nonce, a dot and a number this JVM never
 * hands out again), so a marker exists exactly as long as the one node instance it names. Every write
 * conditional on a node that was read (taking over a lapsed lock, re-entering, renewing, releasing) carries,
 * right after the version-checked operation, a delete or a check of that node's marker: if the node at the
 * path is another instance, the marker is gone and the whole transaction fails. A key segment (see
 * {@link Segments}) never contains {@code ~}, so a marker's name splits back into key and instance.
 *
 * <p>Concurrency: the only state is the JVM-wide sequence, an {@link AtomicLong}.
 */
final class InstanceMarkers {
    /** The parent of the markers, next to {@code /locks}. */
    static final String INSTANCES = "/instances";

    private static final char SEPARATOR = '~';
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private InstanceMarkers() {}

    /** A new instance id for a node the acquire call with this nonce is about to create. */
    static String newId(String callNonce) {
        return callNonce + "." + SEQUENCE.incrementAndGet();
    }

    /** Whether the instance id was made for the acquire call with this nonce. */
    static boolean isFromCall(String instance, String callNonce) {
        return instance.length() > callNonce.length() && instance.startsWith(callNonce)
                && instance.charAt(callNonce.length()) == '.';
    }

    /** The marker of the node instance {@code instance} at {@code lockPath} ({@code /locks/<segment>}). */
    static String path(String lockPath, String instance) {
        return INSTANCES + "/" + ZKPaths.getNodeFromPath(lockPath) + SEPARATOR + instance;
    }

    /** The lock node's segment of a marker's name, or {@code null} for a name that is not a marker's. */
    static @Nullable String keySegment(String markerName) {
        int at = markerName.indexOf(SEPARATOR);
        return at <= 0 ? null : markerName.substring(0, at);
    }

    /** The instance id of a marker's name, or {@code null} for a name that is not a marker's. */
    static @Nullable String instance(String markerName) {
        int at = markerName.indexOf(SEPARATOR);
        return at <= 0 || at == markerName.length() - 1 ? null : markerName.substring(at + 1);
    }
}
