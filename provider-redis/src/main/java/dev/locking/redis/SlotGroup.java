package dev.locking.redis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Keys of one call that share a Redis Cluster hash slot, with their positions in the call's key list. A Lua
 * script may only touch keys of one slot, so an operation on keys of several slots makes one script call per
 * group. On a server that is not a cluster every call is one group.
 *
 * <p>Not thread-safe; a group belongs to the call that made it.
 */
final class SlotGroup {
    /** Keys per script call when a call covers many locks (releaseAll, owner index updates). */
    static final int BATCH = 500;
    /** The positions of a call's only key. */
    private static final List<Integer> FIRST = List.of(0);

    /** The user keys, in the call's order. */
    final List<String> keys;
    /** Where each key stands in the call's key list. */
    final List<Integer> positions;

    private SlotGroup(List<String> keys, List<Integer> positions) {
        this.keys = keys;
        this.positions = positions;
    }

    /** The keys of one call by hash slot (one group when the server is not a cluster), in key order. */
    static List<SlotGroup> of(List<String> keys, KeyLayout layout, boolean cluster) {
        if (keys.size() == 1) {
            return List.of(new SlotGroup(keys, FIRST));
        }
        if (!cluster) {
            List<Integer> positions = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                positions.add(i);
            }
            return List.of(new SlotGroup(keys, positions));
        }
        Map<Integer, SlotGroup> bySlot = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            String key = keys.get(i);
            bySlot.computeIfAbsent(KeyLayout.slot(layout.lockKey(key)),
                    s -> new SlotGroup(new ArrayList<>(), new ArrayList<>())).add(key, i);
        }
        return new ArrayList<>(bySlot.values());
    }

    /** Redis keys cut into script calls: by slot in a cluster, and at most {@link #BATCH} per call. */
    static List<List<Object>> batches(List<Object> redisKeys, boolean cluster) {
        Map<Integer, List<Object>> groups = new LinkedHashMap<>();
        for (Object key : redisKeys) {
            int slot = cluster ? KeyLayout.slot(key.toString()) : 0;
            groups.computeIfAbsent(slot, s -> new ArrayList<>()).add(key);
        }
        List<List<Object>> batches = new ArrayList<>();
        for (List<Object> group : groups.values()) {
            for (int from = 0; from < group.size(); from += BATCH) {
                batches.add(group.subList(from, Math.min(group.size(), from + BATCH)));
            }
        }
        return batches;
    }

    int size() {
        return keys.size();
    }

    /** The part of this group that sorts before the key at {@code position}, or null if none does. */
    @Nullable SlotGroup before(int position, List<String> all) {
        List<String> k = new ArrayList<>();
        List<Integer> p = new ArrayList<>();
        for (int i = 0; i < positions.size(); i++) {
            if (positions.get(i) < position) {
                k.add(all.get(positions.get(i)));
                p.add(positions.get(i));
            }
        }
        return k.isEmpty() ? null : new SlotGroup(k, p);
    }

    private void add(String key, int position) {
        keys.add(key);
        positions.add(position);
    }
}
