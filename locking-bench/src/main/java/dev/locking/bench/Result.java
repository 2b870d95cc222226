package dev.locking.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * One line of the bench's output: a contender's figures in one workload of one run. Latencies are in
 * microseconds; {@code value} and {@code unit} carry what is not a rate (W5's milliseconds, W6's bytes).
 *
 * @param run          the run number, from 1
 * @param workload     W1..W8
 * @param backend      the provider id it is compared under, such as {@code lp_redis}
 * @param contender    {@code lp_redis}, {@code Redisson RLock}, ...
 * @param ours         whether the contender is one of ours
 * @param variant      what varies inside the workload: key order in W4, held/released in W6, else empty
 * @param threads      worker threads
 * @param ops          operations that ended inside the measured window
 * @param opsPerSec    ops per second of the window
 * @param p50          latency percentiles in microseconds
 * @param p99          see p50
 * @param p999         see p50
 * @param max          see p50
 * @param overlaps     times two holders were inside one lock's section at once (must be 0)
 * @param errors       operations that failed
 * @param stuck        threads still blocked after the window, its grace and an interrupt
 * @param value        a figure that is not a rate, in {@code unit} (W5's milliseconds, W6's bytes, W7's
 *                     Jain's index); NaN when none
 * @param unit         the unit of {@code value}
 * @param note         anything worth a footnote, or empty
 * @param latencies    the latencies behind the percentiles, kept so that the slices of one measurement can be
 *                     merged ({@link #merge}); not written to the CSV, so {@code null} once read back
 */
record Result(int run, String workload, String backend, String contender, boolean ours, String variant, int threads,
        long ops, double opsPerSec, double p50, double p99, double p999, double max, long overlaps, long errors,
        int stuck, double value, String unit, String note, @Nullable Histogram latencies) {

    /** A result without its histogram, as read back from a CSV. */
    Result(int run, String workload, String backend, String contender, boolean ours, String variant, int threads,
            long ops, double opsPerSec, double p50, double p99, double p999, double max, long overlaps, long errors,
            int stuck, double value, String unit, String note) {
        this(run, workload, backend, contender, ours, variant, threads, ops, opsPerSec, p50, p99, p999, max,
                overlaps, errors, stuck, value, unit, note, null);
    }

    static final String CSV_HEADER = "run,workload,backend,contender,ours,variant,threads,ops,ops_per_sec,"
            + "p50_us,p99_us,p999_us,max_us,overlaps,errors,stuck,value,unit,note";

    static Result of(int run, String workload, String backend, String contender, boolean ours, String variant,
            int threads, Runner.Measurement m, long overlaps, String note) {
        Histogram h = m.histogram();
        String fullNote = note;
        if (m.firstError() != null) {
            // One line: results.csv is read back line by line, and the note is one cell of a table.
            fullNote = (fullNote.isEmpty() ? "" : fullNote + "; ") + "first error: "
                    + m.firstError().replaceAll("\\s*\\R\\s*", " ");
        }
        return new Result(run, workload, backend, contender, ours, variant, threads, m.ops(),
                m.opsPerSecond(), micros(h, 50), micros(h, 99), micros(h, 99.9), h.getMaxValue() / 1e3, overlaps,
                m.errors(), m.stuckThreads(), Double.NaN, "", fullNote, h);
    }

    /**
     * One result from the slices of one measurement (same contender, workload and variant), measured in
     * turn with other contenders' slices: operations and problems add up, the rate is over the sum of the
     * slices' windows, the percentiles are those of all slices' latencies together.
     *
     * @param seconds the length of the measured window of each slice
     */
    static Result merge(List<Result> slices, double seconds) {
        if (slices.isEmpty()) {
            throw new IllegalArgumentException("no slices to merge");
        }
        Result first = slices.get(0);
        Histogram all = new Histogram(3);
        long ops = 0;
        long overlaps = 0;
        long errors = 0;
        int stuck = 0;
        List<String> notes = new ArrayList<>();
        for (Result r : slices) {
            Histogram h = r.latencies();
            if (h == null) {
                throw new IllegalArgumentException("a slice without its latencies: " + r);
            }
            all.add(h);
            ops += r.ops();
            overlaps += r.overlaps();
            errors += r.errors();
            stuck += r.stuck();
            if (!r.note().isEmpty() && !notes.contains(r.note())) {
                notes.add(r.note());
            }
        }
        double window = seconds * slices.size();
        return new Result(first.run(), first.workload(), first.backend(), first.contender(), first.ours(),
                first.variant(), first.threads(), ops, window <= 0 ? 0 : ops / window, micros(all, 50),
                micros(all, 99), micros(all, 99.9), all.getTotalCount() == 0 ? Double.NaN : all.getMaxValue() / 1e3,
                overlaps, errors, stuck, Double.NaN, "", String.join("; ", notes), all);
    }

    /** This result with a figure that is not a rate (W7's fairness index). */
    Result withFigure(double figure, String figureUnit) {
        return new Result(run, workload, backend, contender, ours, variant, threads, ops, opsPerSec, p50, p99, p999,
                max, overlaps, errors, stuck, figure, figureUnit, note, latencies);
    }

    /** A result that is one figure (W5, W6), with the latency histogram when there is one. */
    static Result figure(int run, String workload, String backend, String contender, boolean ours, String variant,
            @Nullable Histogram h, double value, String unit, String note) {
        long count = h == null ? 0 : h.getTotalCount();
        return new Result(run, workload, backend, contender, ours, variant, 1, count, Double.NaN,
                h == null ? Double.NaN : micros(h, 50), h == null ? Double.NaN : micros(h, 99),
                h == null ? Double.NaN : micros(h, 99.9), h == null ? Double.NaN : h.getMaxValue() / 1e3, 0, 0, 0,
                value, unit, note, h);
    }

    private static double micros(Histogram h, double percentile) {
        return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(percentile) / 1e3;
    }

    /** Whether the figures can be trusted as a measurement: it completed work without failing or hanging. */
    boolean clean() {
        return overlaps == 0 && errors == 0 && stuck == 0;
    }

    String csv() {
        return String.join(",", Integer.toString(run), workload, backend, quote(contender), Boolean.toString(ours),
                quote(variant), Integer.toString(threads), Long.toString(ops), num(opsPerSec), num(p50), num(p99),
                num(p999), num(max), Long.toString(overlaps), Long.toString(errors), Integer.toString(stuck),
                num(value), unit, quote(note));
    }

    /** Reads a line that {@link #csv()} wrote. */
    static Result parseCsv(String line) {
        List<String> f = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                f.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        f.add(field.toString());
        if (f.size() != 19) {
            throw new IllegalArgumentException("not a results.csv line (" + f.size() + " fields): " + line);
        }
        return new Result(Integer.parseInt(f.get(0)), f.get(1), f.get(2), f.get(3), Boolean.parseBoolean(f.get(4)),
                f.get(5), Integer.parseInt(f.get(6)), Long.parseLong(f.get(7)), dbl(f.get(8)), dbl(f.get(9)),
                dbl(f.get(10)), dbl(f.get(11)), dbl(f.get(12)), Long.parseLong(f.get(13)), Long.parseLong(f.get(14)),
                Integer.parseInt(f.get(15)), dbl(f.get(16)), f.get(17), f.get(18));
    }

    private static double dbl(String s) {
        return s.isEmpty() ? Double.NaN : Double.parseDouble(s);
    }

    private static String num(double d) {
        return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.3f", d);
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
