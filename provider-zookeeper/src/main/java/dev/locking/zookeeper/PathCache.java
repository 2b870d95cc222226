package dev.locking.zookeeper;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A bounded set of node paths the provider remembers as a hint (a key found held, an owner container known
 * to exist). A hint that is wrong costs one failed transaction, never a wrong answer, so when the set is
 * full it is simply emptied.
 *
 * <p>Concurrency: a concurrent set; the emptying when full may race with adds, which only loses hints.
 */
final class PathCache {
    private final int capacity;
    private final Set<String> paths = ConcurrentHashMap.newKeySet();

    PathCache(int capacity) {
        this.capacity = capacity;
    }

    void add(String path) {
        if (paths.size() >= capacity) {
            paths.clear();
        }
        paths.add(path);
    }

    void remove(String path) {
        paths.remove(path);
    }

    void removeAll(List<String> paths) {
        if (!this.paths.isEmpty()) {
            paths.forEach(this.paths::remove);
        }
    }

    boolean contains(String path) {
        return paths.contains(path);
    }

    boolean containsAny(List<String> paths) {
        if (this.paths.isEmpty()) {
            return false;
        }
        for (String path : paths) {
            if (this.paths.contains(path)) {
                return true;
            }
        }
        return false;
    }
}
