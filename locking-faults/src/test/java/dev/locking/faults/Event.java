package dev.locking.faults;

import java.util.Arrays;
import java.util.List;

/**
 * One line a child reported: what happened, when (wall-clock milliseconds) and on which key.
 *
 * @param child  the child's name
 * @param type   GOT, WRITE, END, LOST, DONE, FAIL, READY or BYE
 * @param millis when, by the child's wall clock (the test's machine clock)
 * @param key    the key, or "" for events without one
 * @param token  the fencing token, or -1
 * @param rest   what follows (a write's reply, an exception's name and message)
 */
record Event(String child, String type, long millis, String key, long token, String rest) {

    static Event parse(String child, String line) {
        List<String> f = Arrays.asList(line.split(" ", -1));
        String type = f.get(0);
        long millis = f.size() > 1 ? parseLong(f.get(1)) : -1;
        String key = f.size() > 2 ? f.get(2) : "";
        long token = -1;
        String rest = "";
        switch (type) {
            case "GOT", "END", "LOST", "DONE" -> token = f.size() > 3 ? parseLong(f.get(3)) : -1;
            case "WRITE" -> {
                token = f.size() > 3 ? parseLong(f.get(3)) : -1;
                rest = f.size() > 4 ? f.get(4) : "";
            }
            case "FAIL" -> {
                token = f.size() > 3 ? parseLong(f.get(3)) : -1;
                rest = f.size() > 4 ? String.join(" ", f.subList(4, f.size())) : "";
            }
            default -> key = "";
        }
        return new Event(child, type, millis, key, token, rest);
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    boolean is(String t) {
        return type.equals(t);
    }
}
