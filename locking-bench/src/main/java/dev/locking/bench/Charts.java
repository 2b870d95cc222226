package dev.locking.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Draws the bench's PNG charts with XChart from a {@link Report}'s median rows. Providers differ by orders of
 * magnitude, so the rate charts have one panel per provider, each on its own linear scale, with ours (blue)
 * next to the peers.
 */
final class Charts {
    /** Ours blue, then one colour per peer: PostgreSQL has four peers' bars in W1 and W4. */
    private static final Color[] COLORS = {new Color(0x1f, 0x6f, 0xb4), new Color(0xe0, 0x7b, 0x22),
        new Color(0x8c, 0x8c, 0x8c), new Color(0xc0, 0x39, 0x2b), new Color(0x2c, 0xa0, 0x2c),
        new Color(0x94, 0x67, 0xbd)};
    private static final int PANEL_WIDTH = 560;
    private static final int PANEL_HEIGHT = 380;

    private Charts() {}

    /** One bar: a contender's median. */
    record Bar(String label, double value) {}

    /** Writes every chart the results allow into {@code dir}; returns the files written. */
    static List<Path> write(Report report, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        List<Report.Row> rows = report.rows();
        rates(rows, "W1", "W1: 1 thread, acquire + release of a fresh key", "ops/s", Report.Row::opsPerSec,
                dir.resolve("w1.png"), written);
        rates(rows, "W2", "W2: 8 threads, disjoint fresh keys", "ops/s", Report.Row::opsPerSec,
                dir.resolve("w2.png"), written);
        rates(rows, "W3", "W3: 8 threads on one key", "entries/s", Report.Row::opsPerSec,
                dir.resolve("w3-throughput.png"), written);
        rates(rows, "W3", "W3: 8 threads on one key, p99 wait before entry", "p99 wait (ms)", r -> r.p99() / 1e3,
                dir.resolve("w3-p99-wait.png"), written);
        rates(rows, "W4", "W4: 4 threads, 3 random keys of 16", "cycles/s", Report.Row::opsPerSec,
                dir.resolve("w4.png"), written);
        rates(rows, "W7", "W7: 4 JVMs x 2 threads on one key", "entries/s", Report.Row::opsPerSec,
                dir.resolve("w7-throughput.png"), written);
        rates(rows, "W7", "W7: 4 JVMs x 2 threads on one key, p99 wait before entry", "p99 wait (ms)",
                r -> r.p99() / 1e3, dir.resolve("w7-p99-wait.png"), written);
        rates(rows, "W7", "W7: 4 JVMs x 2 threads on one key, Jain's fairness index", "Jain's index",
                Report.Row::value, dir.resolve("w7-fairness.png"), written);
        rates(rows, "W8", "W8: 4 JVMs x 1 thread, 3 random keys of 16", "cycles/s", Report.Row::opsPerSec,
                dir.resolve("w8.png"), written);
        releaseAll(rows, dir, written);
        heap(rows, dir, written);
        return written;
    }

    /** The bars of one provider in one workload: ours first, then the peers, in the order they were run. */
    static List<Bar> bars(List<Report.Row> rows, String workload, String backend, ToDoubleFunction<Report.Row> f) {
        List<Bar> bars = new ArrayList<>();
        List<Report.Row> mine = rows.stream().filter(r -> r.workload().equals(workload) && r.backend().equals(backend))
                .toList();
        for (boolean ours : new boolean[] {true, false}) {
            for (Report.Row r : mine) {
                if (r.ours() == ours) {
                    double v = f.applyAsDouble(r);
                    String label = r.contender() + (r.variant().isEmpty() ? "" : ", " + r.variant());
                    bars.add(new Bar(label, Double.isNaN(v) ? 0 : v));
                }
            }
        }
        return bars;
    }

    private static CategoryChart panel(String title, String yTitle, List<Bar> bars) {
        CategoryChart chart = new CategoryChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(title)
                .yAxisTitle(yTitle).build();
        Styler.LegendPosition legend = Styler.LegendPosition.OutsideS;
        chart.getStyler().setLegendPosition(legend);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsRotation(0);
        // The bar labels are formatted with the axis's pattern: decimals only for small figures.
        chart.getStyler().setYAxisDecimalPattern(bars.stream().anyMatch(b -> b.value() > 0 && b.value() < 10)
                ? "#,##0.##" : "#,##0");
        chart.getStyler().setSeriesColors(COLORS);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setXAxisTicksVisible(false);
        chart.getStyler().setYAxisMin(0.0);
        for (Bar bar : bars) {
            chart.addSeries(bar.label(), List.of(" "), List.of(bar.value()));
        }
        return chart;
    }

    private static void rates(List<Report.Row> rows, String workload, String title, String yTitle,
            ToDoubleFunction<Report.Row> f, Path file, List<Path> written) throws IOException {
        List<CategoryChart> panels = new ArrayList<>();
        for (String backend : Report.BACKENDS) {
            List<Bar> bars = bars(rows, workload, backend, f);
            if (!bars.isEmpty()) {
                CategoryChart panel = panel(workload + " on " + backend + " (median " + yTitle + ")", yTitle, bars);
                panel.setXAxisTitle(title.substring(title.indexOf(':') + 2));
                panels.add(panel);
            }
        }
        if (panels.isEmpty()) {
            return;
        }
        save(panels, file, written);
    }

    private static void save(List<CategoryChart> panels, Path file, List<Path> written) throws IOException {
        String name = file.toString();
        String base = name.substring(0, name.length() - ".png".length());
        if (panels.size() == 1) {
            BitmapEncoder.saveBitmap(panels.get(0), base, BitmapEncoder.BitmapFormat.PNG);
        } else {
            // XChart wants exactly rows x columns panels: 2 x 2 for four, one row otherwise.
            int columns = panels.size() == 4 ? 2 : panels.size();
            int rowsOfPanels = panels.size() / columns;
            BitmapEncoder.saveBitmap(panels, rowsOfPanels, columns, base, BitmapEncoder.BitmapFormat.PNG);
        }
        written.add(file);
    }

    private static void releaseAll(List<Report.Row> rows, Path dir, List<Path> written) throws IOException {
        List<Report.Row> w5 = rows.stream().filter(r -> r.workload().equals("W5")).toList();
        if (w5.isEmpty()) {
            return;
        }
        CategoryChart chart = new CategoryChartBuilder().width(2 * PANEL_WIDTH).height(PANEL_HEIGHT)
                .title("W5: releaseAll(owner) of 10 locks, " + w5.get(0).variant() + " (median; target 10 ms)")
                .yAxisTitle("ms").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsRotation(0);
        chart.getStyler().setYAxisDecimalPattern("#,##0.###");
        chart.getStyler().setDecimalPattern("#,##0.##");
        chart.getStyler().setSeriesColors(COLORS);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("p50", new ArrayList<>());
        series.put("p99", new ArrayList<>());
        List<String> x = new ArrayList<>();
        for (Report.Row r : w5) {
            x.add(r.backend());
            series.get("p50").add(r.p50() / 1e3);
            series.get("p99").add(r.p99() / 1e3);
        }
        series.forEach((name, values) -> chart.addSeries(name, x, values));
        save(List.of(chart), dir.resolve("w5.png"), written);
    }

    private static void heap(List<Report.Row> rows, Path dir, List<Path> written) throws IOException {
        List<Bar> bars = new ArrayList<>();
        Optional<Report.Row> first = Optional.empty();
        for (Report.Row r : rows) {
            if (r.workload().equals("W6") && r.variant().startsWith("held")) {
                bars.add(new Bar(r.contender(), r.value()));
                first = first.isPresent() ? first : Optional.of(r);
            }
        }
        if (first.isEmpty()) {
            return;
        }
        String count = first.get().variant().substring("held, ".length());
        save(List.of(panel(String.format(Locale.ROOT, "W6: heap per held lock, %s (target 200 B)", count),
                "bytes per held lock", bars)), dir.resolve("w6.png"), written);
    }
}
