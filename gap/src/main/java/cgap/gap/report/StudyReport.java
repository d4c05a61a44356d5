package cgap.gap.report;

import cgap.gap.stats.StudySummary;
import cgap.gap.stats.StudySummary.Cell;
import cgap.gap.stats.StudySummary.CurvePoint;
import cgap.gap.stats.StudySummary.EndpointFree;
import cgap.gap.stats.StudySummary.Estimate;
import cgap.gap.stats.StudySummary.GapPoint;
import cgap.gap.stats.StudySummary.Headline;
import cgap.gap.stats.StudySummary.Matched;
import cgap.gap.stats.StudySummary.Replay;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a study's results: summary.json (every number), curves.csv (per-layer curves of the own-history cells),
 * kl_curves.png/.svg, gap_curve.png/.svg and a self-contained report.html; each file is written atomically.
 */
public final class StudyReport {
    private StudyReport() {}

    /**
     * Writes all report files into outDir (created if missing).
     *
     * @param runInfo what produced the run (models, prompts, arguments, ...), shown verbatim; "cgap_version" and
     *                "report_written" (UTC) are added when missing
     */
    public static void write(Path outDir, StudySummary summary, Map<String, String> runInfo) {
        Map<String, String> info = new LinkedHashMap<>(runInfo);
        String version = StudyReport.class.getPackage().getImplementationVersion();
        info.putIfAbsent("cgap_version", version == null ? "dev" : version);
        info.putIfAbsent("report_written", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        AtomicFiles.write(outDir.resolve("summary.json"), summary.toJson().getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(outDir.resolve("curves.csv"), curvesCsv(summary).getBytes(StandardCharsets.UTF_8));
        String klSvg = klCurvesPlot(outDir.resolve("kl_curves"), summary);
        String gapSvg = gapCurvePlot(outDir.resolve("gap_curve"), summary);
        String html = ReportHtml.render(summary, info, klSvg, gapSvg);
        AtomicFiles.write(outDir.resolve("report.html"), html.getBytes(StandardCharsets.UTF_8));
    }

    /** The curves of the own-history cells: model, regime, layer, depth, mean, lo, hi. */
    static String curvesCsv(StudySummary summary) {
        StringBuilder csv = new StringBuilder("model,regime,layer,depth,mean,lo,hi\n");
        for (Cell cell : ownCells(summary))
            for (CurvePoint p : cell.curve())
                csv.append(cell.model()).append(',').append(cell.regime()).append(',').append(p.layer()).append(',')
                        .append(p.depth()).append(',').append(p.mean()).append(',').append(p.lo()).append(',')
                        .append(p.hi()).append('\n');
        return csv.toString();
    }

    /** Cells of models reading their own continuation (one per model and regime). */
    static List<Cell> ownCells(StudySummary summary) {
        return summary.cells().stream().filter(c -> c.history().equals("own")).toList();
    }

    private static String klCurvesPlot(Path base, StudySummary summary) {
        List<Plots.Band> bands = new ArrayList<>();
        double lateFrom = 1;
        for (Cell cell : ownCells(summary)) {
            int n = cell.curve().size();
            double[] x = new double[n], mean = new double[n], lo = new double[n], hi = new double[n];
            for (int i = 0; i < n; i++) {
                CurvePoint p = cell.curve().get(i);
                x[i] = p.depth();
                mean[i] = p.mean();
                lo[i] = p.lo();
                hi[i] = p.hi();
            }
            bands.add(new Plots.Band(modelName(cell) + " (" + cell.regime() + ", n = " + cell.layers() + ")",
                    colorOf(cell.model(), bands.size()), x, mean, lo, hi));
            lateFrom = Math.min(lateFrom, depthOf(cell.lateStart(), cell.layers()));
        }
        return Plots.bands(base, "Logit-lens KL to the final layer", "mean KL(p_j || p_L), nats", bands,
                List.of(new Plots.Shade(lateFrom, 1, "late window")), finalHalfLines(summary), false);
    }

    private static String gapCurvePlot(Path base, StudySummary summary) {
        List<GapPoint> gap = summary.gapCurve();
        int n = gap.size();
        double[] x = new double[n], mean = new double[n], lo = new double[n], hi = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = gap.get(i).depth();
            mean[i] = gap.get(i).mean();
            lo[i] = gap.get(i).lo();
            hi[i] = gap.get(i).hi();
        }
        List<Plots.Shade> shades = new ArrayList<>();
        Headline h = summary.headline();
        if (h != null) {
            double lateFrom = Math.min(depthOf(lateStart(h.ptLayers()), h.ptLayers()),
                    depthOf(lateStart(h.itLayers()), h.itLayers()));
            shades.add(new Plots.Shade(lateFrom, 1, "late window"));
        }
        String title = h == null ? "IT - PT mean KL (no native PT/IT pair in this run)" : "Convergence gap: IT - PT mean KL";
        return Plots.bands(base, title, "IT - PT mean KL, nats",
                List.of(new Plots.Band("IT - PT (95% interval)", Plots.GAP_COLOR, x, mean, lo, hi)), shades,
                finalHalfLines(summary), true);
    }

    /** Where the CG window (final 50%) starts, per depth of the native models. */
    private static List<Plots.Line> finalHalfLines(StudySummary summary) {
        Headline h = summary.headline();
        if (h == null) return List.of();
        double pt = depthOf(h.ptLayers() / 2, h.ptLayers()), it = depthOf(h.itLayers() / 2, h.itLayers());
        if (pt == it) return List.of(new Plots.Line(pt, "final 50% (CG)"));
        return List.of(new Plots.Line(pt, "PT final 50%"), new Plots.Line(it, "IT final 50%"));
    }

    private static int lateStart(int n) { return (4 * n) / 5; }

    private static double depthOf(int j, int n) { return n == 1 ? 1.0 : (double) j / (n - 1); }

    static String modelName(Cell cell) {
        return switch (cell.model()) {
            case "pt" -> "PT";
            case "it" -> "IT";
            default -> cell.model();
        };
    }

    private static java.awt.Color colorOf(String model, int index) {
        return switch (model) {
            case "pt" -> Plots.PT_COLOR;
            case "it" -> Plots.IT_COLOR;
            default -> new java.awt.Color[]{new java.awt.Color(0x2ca02c), new java.awt.Color(0xff7f0e),
                    new java.awt.Color(0x8c564b)}[index % 3];
        };
    }

    /** "IT native - PT raw" style name of an audit contrast, else the two cell labels. */
    static String replayName(Replay r) {
        return r.audit() ? shortName(r.minuend()) + " - " + shortName(r.subtrahend()) : r.minuend() + " - " + r.subtrahend();
    }

    private static String shortName(String cellLabel) {
        String[] part = cellLabel.split("/");
        return part[0].toUpperCase(Locale.ROOT) + " " + part[1].substring(part[1].indexOf('_') + 1);
    }

    /** A plain-text table of the headline numbers, for the terminal. */
    public static String headlineTable(StudySummary summary) {
        Table table = new Table();
        Headline h = summary.headline();
        if (h != null) {
            table.row("PT mean KL, final 50% (nats)", h.ptFinalHalfKl(), false);
            table.row("IT mean KL, final 50% (nats)", h.itFinalHalfKl(), false);
            table.row("CG = IT - PT, final 50%", h.cg(), true);
            table.row("CG, token steps pooled", h.cgStepPooled(), true);
            table.row("PT late KL, final 20%", h.ptLateKl(), false);
            table.row("IT late KL, final 20%", h.itLateKl(), false);
            table.row("late-KL gap IT - PT", h.lateKlGap(), true);
        } else {
            for (Cell cell : summary.cells()) table.row("late KL " + cell.label(), cell.lateKl(), false);
        }
        Matched m = summary.endpointMatched();
        if (m != null) table.row("endpoint-matched late-KL gap (CEM)", m.lateKlGap(), true);
        EndpointFree f = summary.endpointFree();
        if (f != null) {
            table.row("endpoint-free remaining JS path gap", f.jsPathGap(), true);
            table.row("endpoint-free future top-1 flips gap", f.flipsGap(), true);
        }
        for (Replay r : summary.replay())
            if (r.audit()) table.row("replay on " + r.history() + " tokens: " + replayName(r), r.paired(), true);

        StringBuilder out = new StringBuilder();
        if (h != null)
            out.append(String.format(Locale.ROOT, "Convergence gap: IT (it_native, n = %d) vs PT (pt_raw, n = %d); %s%n",
                    h.itLayers(), h.ptLayers(), h.pairing()));
        else out.append("No native PT/IT pair in this run: per-cell late KL only\n");
        out.append(table.render());
        if (m != null)
            out.append(String.format(Locale.ROOT, "CEM retention IT %.3f, PT %.3f; max |SMD| %.3f before, %.3f after%n",
                    m.retentionTreated(), m.retentionControl(), m.maxSmdBefore(), m.maxSmdAfter()));
        out.append(String.format(Locale.ROOT, "%d%% percentile bootstrap over prompts, %d resamples, seed %d%n",
                Math.round(summary.level() * 100), summary.bootstrapSamples(), summary.seed()));
        return out.toString();
    }

    /** Fixed-width rows: label, estimate, interval, prompts, steps. */
    private static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        void row(String label, Estimate e, boolean signed) {
            rows.add(new String[]{label, number(e.mean(), signed),
                    "[" + number(e.lo(), signed) + ", " + number(e.hi(), signed) + "]",
                    Integer.toString(e.prompts()), Long.toString(e.steps())});
        }

        String render() {
            String[] header = {"", "estimate", "95% interval", "prompts", "steps"};
            int[] width = new int[header.length];
            for (String[] r : concat(header)) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
            StringBuilder out = new StringBuilder();
            for (String[] r : concat(header)) {
                out.append(pad(r[0], width[0], true));
                for (int i = 1; i < r.length; i++) out.append("  ").append(pad(r[i], width[i], false));
                out.append('\n');
            }
            return out.toString();
        }

        private List<String[]> concat(String[] header) {
            List<String[]> all = new ArrayList<>();
            all.add(header);
            all.addAll(rows);
            return all;
        }

        private static String pad(String s, int width, boolean left) {
            String fill = " ".repeat(width - s.length());
            return left ? s + fill : fill + s;
        }
    }

    /** A number with three decimals ("n/a" when undefined); signed ones carry an explicit +. */
    static String number(double value, boolean signed) {
        if (!Double.isFinite(value)) return "n/a";
        return String.format(Locale.ROOT, signed ? "%+.3f" : "%.3f", value);
    }
}
