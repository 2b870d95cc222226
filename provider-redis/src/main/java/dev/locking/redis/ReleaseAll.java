package dev.locking.redis;

import static dev.locking.redis.ScriptReplies.number;
import static dev.locking.redis.ScriptReplies.position;

import dev.locking.api.LockingException;
import dev.locking.api.ProviderUnavailableException;
import dev.locking.spi.support.BackendCalls;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.KeysScanOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code releaseAll}: an owner's locks found through its owner index, or every lock of the prefix found with
 * {@code SCAN}. Both release in batches of {@link SlotGroup#BATCH} keys of one slot and keep the owner
 * indexes in step (in a cluster an index lives in a slot of its own, so it is updated by separate calls).
 *
 * <p>Concurrency: immutable; each call works on its own lists.
 */
final class ReleaseAll {
    private static final Logger log = LoggerFactory.getLogger(ReleaseAll.class);

    private final String id;
    private final KeyLayout layout;
    private final boolean cluster;
    private final RedisConnection connection;
    private final LockScripts scripts;
    private final BackendCalls calls;

    ReleaseAll(String id, KeyLayout layout, boolean cluster, RedisConnection connection, LockScripts scripts) {
        this.id = id;
        this.layout = layout;
        this.cluster = cluster;
        this.connection = connection;
        this.scripts = scripts;
        this.calls = connection.calls();
    }

    /** Releases what the owner index lists, checking each lock's owner first. */
    void ofOwner(String ownerId) {
        String index = layout.ownerIndexKey(ownerId);
        List<Object> members = calls.await(scripts.indexMembers(index), "releaseAll");
        if (members.isEmpty()) {
            if (log.isDebugEnabled()) {
                log.debug("{} released all locks of {}: none", id, RedisLockingProvider.ownerLabel(ownerId));
            }
            return;
        }
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (List<Object> batch : SlotGroup.batches(members, cluster)) {
            futures.add(scripts.release(batch, ownerId, cluster ? null : index, false));
        }
        for (CompletableFuture<Long> future : futures) {
            calls.await(future, "releaseAll");
        }
        if (cluster) {
            for (int from = 0; from < members.size(); from += SlotGroup.BATCH) {
                List<Object> batch = members.subList(from, Math.min(members.size(), from + SlotGroup.BATCH));
                calls.await(scripts.indexRemove(index, batch), "releaseAll");
            }
        }
        if (log.isDebugEnabled()) {
            log.debug("{} released all locks of {} ({} listed)", id, RedisLockingProvider.ownerLabel(ownerId),
                    members.size());
        }
    }

    /**
     * Deletes every lock key under the prefix, found with {@code SCAN MATCH}; their tokens expire a little later,
     * owner indexes with their leases (or at the owner's next release). Keys of that shape that hold another type
     * than a lock are left alone and logged.
     */
    void everything() {
        RedissonClient client = connection.client();
        List<Object> batch = new ArrayList<>(SlotGroup.BATCH);
        long deleted = 0;
        try (Stream<String> found = client.getKeys().getKeysStream(
                KeysScanOptions.defaults().pattern(layout.scanPattern()).chunkSize(SlotGroup.BATCH))) {
            Iterator<String> it = found.iterator();
            while (it.hasNext()) {
                batch.add(it.next());
                if (batch.size() == SlotGroup.BATCH) {
                    deleted += purge(batch);
                    batch.clear();
                }
            }
        } catch (RuntimeException e) {
            throw connection.failure(e, "releaseAll");
        }
        deleted += purge(batch);
        log.debug("{} released all locks under {} ({} deleted)", id, layout.prefix(), deleted);
    }

    private long purge(List<Object> lockKeys) {
        if (lockKeys.isEmpty()) {
            return 0;
        }
        List<List<Object>> groups = SlotGroup.batches(lockKeys, cluster);
        List<CompletableFuture<List<Object>>> futures = new ArrayList<>();
        for (List<Object> group : groups) {
            futures.add(scripts.purge(group));
        }
        long deleted = 0;
        Map<String, List<Object>> byOwner = new LinkedHashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            List<Object> group = groups.get(g);
            List<Object> reply = calls.await(futures.get(g), "releaseAll");
            deleted += number(reply, 0);
            int skipped = (int) number(reply, 1);
            for (int i = 2; i < 2 + skipped; i++) {
                log.warn("{}: releaseAll left {} alone: it holds data of another type than a lock", id,
                        layout.describe(group.get(position(reply, i)).toString()));
            }
            for (int i = 2 + skipped; i + 1 < reply.size(); i += 2) {
                byOwner.computeIfAbsent(String.valueOf(reply.get(i + 1)), o -> new ArrayList<>())
                        .add(group.get(position(reply, i)));
            }
        }
        // The owners' indexes must not keep listing what is gone, or an index of locks without lease would stay.
        List<CompletableFuture<List<Object>>> removals = new ArrayList<>(byOwner.size());
        for (Map.Entry<String, List<Object>> owner : byOwner.entrySet()) {
            removals.add(scripts.indexRemove(layout.ownerIndexKey(owner.getKey()), owner.getValue()));
        }
        for (CompletableFuture<List<Object>> removal : removals) {
            try {
                calls.await(removal, "releaseAll");
            } catch (LockingException e) {
                if (e instanceof ProviderUnavailableException) {
                    throw e;
                }
                log.warn("{}: releaseAll could not update an owner's index: {}", id, e.getMessage());
            }
        }
        return deleted;
    }
}
