package dev.locking.faults;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs of one scenario rebuilt from the timeline: who ran on the key from when to when, and whether
 * that child learnt its lease was lost. Two jobs of different children that overlap in time both believed
 * they held the key; if neither learnt it was lost, that double grant went unnoticed by the lock (only
 * fencing can catch it then).
 */
final class Jobs {
    /** One job: its child, token, start (GOT), end (END, or the last sign of life), and whether it was lost. */
    record Job(String child, long token, long start, long end, boolean lost) {}

    /** Two jobs that overlapped. */
    record Overlap(Job first, Job second) {
        boolean involves(String child) {
            return first.child().equals(child) || second.child().equals(child);
        }

        boolean undetected() {
            return !first.lost() && !second.lost();
        }

        @Override
        public String toString() {
            return first.child() + ":" + first.token() + (first.lost() ? "(lost)" : "") + " and " + second.child()
                    + ":" + second.token() + (second.lost() ? "(lost)" : "") + " for "
                    + (Math.min(first.end(), second.end()) - second.start()) + " ms";
        }
    }

    private Jobs() {}

    /**
     * Rebuilds the jobs on {@code key}; a child killed at {@code killedAt} (wall-clock ms) ends its job
     * there.
     */
    static List<Job> of(List<Event> events, String key, Map<String, Long> killedAt) {
        Map<String, Long> start = new HashMap<>();
        Map<String, Long> token = new HashMap<>();
        Map<String, Long> end = new HashMap<>();
        Map<String, Boolean> lost = new HashMap<>();
        Map<String, Long> lastSeen = new HashMap<>();
        List<Job> jobs = new ArrayList<>();
        for (Event e : events) {
            lastSeen.put(e.child(), e.millis());
            if (!e.key().equals(key)) {
                continue;
            }
            String c = e.child();
            if (e.is("GOT")) {
                close(c, start, token, end, lost, jobs, e.millis());
                start.put(c, e.millis());
                token.put(c, e.token());
                lost.put(c, false);
            } else if (start.containsKey(c) && e.token() == token.get(c)) {
                if (e.is("END")) {
                    end.put(c, e.millis());
                } else if (e.is("LOST") || (e.is("FAIL") && e.rest().startsWith("LockLostException"))) {
                    lost.put(c, true);
                    if (e.is("LOST")) {
                        end.putIfAbsent(c, e.millis());
                    }
                }
            }
        }
        for (String c : new ArrayList<>(start.keySet())) {
            long last = killedAt.getOrDefault(c, lastSeen.getOrDefault(c, start.get(c)));
            close(c, start, token, end, lost, jobs, last);
        }
        jobs.sort((a, b) -> Long.compare(a.start(), b.start()));
        return jobs;
    }

    private static void close(String c, Map<String, Long> start, Map<String, Long> token, Map<String, Long> end,
            Map<String, Boolean> lost, List<Job> jobs, long fallbackEnd) {
        Long s = start.remove(c);
        if (s == null) {
            return;
        }
        Long e = end.remove(c);
        jobs.add(new Job(c, token.remove(c), s, e != null ? e : fallbackEnd, lost.remove(c)));
    }

    /** Every pair of jobs of different children that overlapped in time. */
    static List<Overlap> overlaps(List<Job> jobs) {
        List<Overlap> out = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            for (int j = i + 1; j < jobs.size(); j++) {
                Job a = jobs.get(i);
                Job b = jobs.get(j);
                if (!a.child().equals(b.child()) && b.start() < a.end() && a.start() < b.end()) {
                    out.add(new Overlap(a, b));
                }
            }
        }
        return out;
    }
}
