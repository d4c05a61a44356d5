package cgap.gap.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.DatasetRenderingOrder;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Rectangle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Charts of the study, each written as a PNG and an SVG (JFreeChart for drawing, JFreeSVG for the SVG). */
public final class Plots {
    private Plots() {}

    static {
        // Charts are drawn off screen; without this AWT may look for a display on machines that have none.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    static final int WIDTH = 1000, HEIGHT = 600;
    static final Color PT_COLOR = new Color(0x1f77b4), IT_COLOR = new Color(0xd62728), GAP_COLOR = new Color(0x6a3d9a);
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 22);
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 18);
    private static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 15);

    /** One curve with its interval band: x, mean, lo, hi per point. */
    record Band(String name, Color color, double[] x, double[] mean, double[] lo, double[] hi) {}

    /** A shaded stretch of the x axis with its label. */
    record Shade(double from, double to, String label) {}

    /** A dashed vertical line on the x axis with its label. */
    record Line(double at, String label) {}

    /**
     * A bar chart of means with their intervals as error bars, written as base.png and base.svg (an extension .png
     * or .svg on base is dropped).
     *
     * @return the SVG element, for inlining into HTML
     */
    public static String barChart(Path pngOrSvgBase, String title, List<String> labels, double[] means, double[] lo,
                                  double[] hi) {
        return barChart(pngOrSvgBase, title, "value", labels, means, lo, hi);
    }

    /** As {@link #barChart(Path, String, List, double[], double[], double[])} with a label for the value axis. */
    public static String barChart(Path pngOrSvgBase, String title, String valueLabel, List<String> labels,
                                  double[] means, double[] lo, double[] hi) {
        if (labels.size() != means.length || means.length != lo.length || lo.length != hi.length)
            throw new IllegalArgumentException("bar chart '" + title + "': " + labels.size() + " labels, " + means.length
                    + " means, " + lo.length + " lo, " + hi.length + " hi");
        XYIntervalSeries bars = new XYIntervalSeries("mean"), errors = new XYIntervalSeries("95% interval");
        for (int i = 0; i < means.length; i++) {
            bars.add(i, i - 0.35, i + 0.35, means[i], means[i], means[i]);
            errors.add(i, i, i, means[i], lo[i], hi[i]);
        }
        SymbolAxis categories = new SymbolAxis(null, labels.toArray(String[]::new));
        categories.setGridBandsVisible(false);
        NumberAxis values = new NumberAxis(valueLabel);
        XYBarRenderer barRenderer = new XYBarRenderer();
        barRenderer.setBarPainter(new StandardXYBarPainter());
        barRenderer.setShadowVisible(false);
        barRenderer.setSeriesPaint(0, new Color(0x9ecae1));
        XYErrorRenderer errorRenderer = new XYErrorRenderer();
        errorRenderer.setDrawXError(false);
        errorRenderer.setErrorPaint(Color.BLACK);
        errorRenderer.setErrorStroke(new BasicStroke(2f));
        errorRenderer.setCapLength(12);
        errorRenderer.setSeriesPaint(0, Color.BLACK);
        errorRenderer.setDefaultLinesVisible(false);
        XYPlot plot = new XYPlot(new XYIntervalSeriesCollection(), categories, values, errorRenderer);
        ((XYIntervalSeriesCollection) plot.getDataset(0)).addSeries(errors);
        XYIntervalSeriesCollection barData = new XYIntervalSeriesCollection();
        barData.addSeries(bars);
        plot.setDataset(1, barData);
        plot.setRenderer(1, barRenderer);
        plot.setDatasetRenderingOrder(DatasetRenderingOrder.REVERSE);
        plot.addRangeMarker(new ValueMarker(0, Color.DARK_GRAY, new BasicStroke(1f)));
        return write(chart(title, plot), pngOrSvgBase);
    }

    /** Curves with interval bands against normalized depth, shaded windows behind them, an optional zero line. */
    static String bands(Path base, String title, String yLabel, List<Band> curves, List<Shade> shades, List<Line> lines,
                        boolean zeroLine) {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        DeviationRenderer renderer = new DeviationRenderer(true, false);
        for (int c = 0; c < curves.size(); c++) {
            Band band = curves.get(c);
            YIntervalSeries series = new YIntervalSeries(band.name());
            for (int i = 0; i < band.x().length; i++) {
                if (!Double.isFinite(band.mean()[i])) continue;
                double lo = Double.isFinite(band.lo()[i]) ? band.lo()[i] : band.mean()[i];
                double hi = Double.isFinite(band.hi()[i]) ? band.hi()[i] : band.mean()[i];
                series.add(band.x()[i], band.mean()[i], lo, hi);
            }
            data.addSeries(series);
            renderer.setSeriesPaint(c, band.color());
            renderer.setSeriesFillPaint(c, band.color());
            renderer.setSeriesStroke(c, new BasicStroke(2.5f));
        }
        renderer.setAlpha(0.2f);
        NumberAxis depth = new NumberAxis("normalized depth j / (n - 1)");
        depth.setRange(0, 1);
        depth.setTickUnit(new NumberTickUnit(0.1));
        NumberAxis value = new NumberAxis(yLabel);
        value.setAutoRangeIncludesZero(zeroLine);
        XYPlot plot = new XYPlot(data, depth, value, renderer);
        for (Shade shade : shades) {
            IntervalMarker marker = new IntervalMarker(shade.from(), shade.to(), new Color(0, 0, 0, 28));
            marker.setLabel(shade.label());
            marker.setLabelFont(TICK_FONT);
            marker.setLabelAnchor(RectangleAnchor.TOP);
            marker.setLabelTextAnchor(TextAnchor.TOP_CENTER);
            plot.addDomainMarker(marker, Layer.BACKGROUND);
        }
        for (Line line : lines) {
            ValueMarker marker = new ValueMarker(line.at(), Color.GRAY, new BasicStroke(1.5f, BasicStroke.CAP_BUTT,
                    BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
            marker.setLabel(line.label());
            marker.setLabelFont(TICK_FONT);
            marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
            marker.setLabelTextAnchor(TextAnchor.TOP_LEFT);
            plot.addDomainMarker(marker, Layer.BACKGROUND);
        }
        if (zeroLine) plot.addRangeMarker(new ValueMarker(0, Color.DARK_GRAY, new BasicStroke(1f)));
        return write(chart(title, plot), base);
    }

    private static JFreeChart chart(String title, XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        for (var axis : List.of(plot.getDomainAxis(), plot.getRangeAxis())) {
            axis.setLabelFont(LABEL_FONT);
            axis.setTickLabelFont(TICK_FONT);
        }
        JFreeChart chart = new JFreeChart(title, TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        LegendTitle legend = chart.getLegend();
        legend.setItemFont(LABEL_FONT);
        return chart;
    }

    /** Writes base.png and base.svg (each atomically) and returns the SVG element. */
    private static String write(JFreeChart chart, Path base) {
        String name = base.getFileName().toString().replaceFirst("\\.(png|svg)$", "");
        Path dir = base.toAbsolutePath().getParent();
        try {
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ChartUtils.writeChartAsPNG(png, chart, WIDTH, HEIGHT);
            AtomicFiles.write(dir.resolve(name + ".png"), png.toByteArray());
            SVGGraphics2D svg = new SVGGraphics2D(WIDTH, HEIGHT);
            svg.setDefsKeyPrefix(name.replaceAll("[^A-Za-z0-9_-]", "_") + "-");  // unique ids when inlined together
            chart.draw(svg, new Rectangle(0, 0, WIDTH, HEIGHT));
            AtomicFiles.write(dir.resolve(name + ".svg"), svg.getSVGDocument().getBytes(StandardCharsets.UTF_8));
            return svg.getSVGElement();
        } catch (IOException e) {
            throw new UncheckedIOException("writing chart " + dir.resolve(name) + ".png/.svg", e);
        }
    }
}
