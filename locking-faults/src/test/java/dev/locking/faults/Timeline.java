package dev.locking.faults;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Every event the children of one scenario reported, plus the faults the test injected, in the order they
 * arrived.
 *
 * <p>Concurrency: the children's reader threads append and the test reads copies; both lists are guarded by
 * this object's monitor.
 */
final class Timeline {
    @GuardedBy("this")
    private final List<Event> events = new ArrayList<>();
    @GuardedBy("this")
    private final List<String> faults = new ArrayList<>();

    synchronized void add(Event e) {
        events.add(e);
    }

    /** Notes a fault the test injected and returns its wall-clock time. */
    synchronized long fault(String what) {
        long now = System.currentTimeMillis();
        faults.add(now + " " + what);
        return now;
    }

    synchronized List<Event> events() {
        return List.copyOf(events);
    }

    synchronized List<String> faults() {
        return List.copyOf(faults);
    }

    synchronized List<Event> matching(Predicate<Event> p) {
        List<Event> out = new ArrayList<>();
        for (Event e : events) {
            if (p.test(e)) {
                out.add(e);
            }
        }
        return out;
    }

    synchronized long count(Predicate<Event> p) {
        return events.stream().filter(p).count();
    }
}
