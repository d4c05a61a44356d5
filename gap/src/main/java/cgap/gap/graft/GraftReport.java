package cgap.gap.graft;

import cgap.gap.graft.GraftSummary.Effect;
import cgap.gap.graft.GraftSummary.WindowSummary;
import cgap.gap.report.AtomicFiles;
import cgap.gap.report.Plots;
import cgap.gap.stats.Bootstrap.Interval;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The graft run's outputs: summary.json, one CSV of per-prompt effects per window (window_NAME.csv), a bar chart
 * of each window's effects with their intervals (effects_NAME.png, .svg) and report.html, whose section
 * ({@link #section}) can also be placed in another report.
 */
public final class GraftReport {
    private GraftReport() {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static void write(Path out, GraftSummary summary, List<PromptResult> results, Map<String, String> runInfo) {
        try {
            AtomicFiles.write(out.resolve("summary.json"), JSON.writeValueAsBytes(json(summary, runInfo)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out.resolve("summary.json"), e);
        }
        for (WindowSummary w : summary.windows()) {
            AtomicFiles.write(out.resolve("window_" + w.name() + ".csv"), csv(w.name(), results).getBytes(StandardCharsets.UTF_8));
        }
        List<String> svgs = charts(out, summary);
        String html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>cgap graft report</title>\n<style>"
                + CSS + "</style></head><body>\n" + section(summary, svgs) + runTable(runInfo) + "</body></html>\n";
        AtomicFiles.write(out.resolve("report.html"), html.getBytes(StandardCharsets.UTF_8));
    }

    static ObjectNode json(GraftSummary s, Map<String, String> runInfo) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode run = root.putObject("run");
        runInfo.forEach(run::put);
        root.put("prompts", s.prompts());
        root.put("metric", "change in mean late KL(p_j || p_L), j >= floor(0.8 n), of the host on the teacher's tokens, nats");
        ObjectNode boot = root.putObject("bootstrap");
        boot.put("level", s.level());
        boot.put("samples", s.bootstrapSamples());
        boot.put("seed", s.seed());
        ArrayNode windows = root.putArray("windows");
        for (WindowSummary w : s.windows()) {
            ObjectNode wn = windows.addObject();
            wn.put("window", w.name());
            wn.put("layers", w.layers());
            wn.set("baseline_late_kl", interval(w.baseline()));
            ObjectNode effects = wn.putObject("effects");
            for (Effect e : w.effects()) {
                ObjectNode en = interval(e.effect());
                en.set("late_kl", interval(e.lateKl()));
                if (!e.perSeed().isEmpty()) {
                    ArrayNode seeds = en.putArray("per_seed");
                    e.perSeed().forEach(i -> seeds.add(interval(i)));
                }
                effects.set(e.intervention(), en);
            }
        }
        return root;
    }

    private static ObjectNode interval(Interval i) {
        ObjectNode n = JSON.createObjectNode();
        n.put("mean", i.mean());
        n.put("lo", i.lo());
        n.put("hi", i.hi());
        n.put("n", i.n());
        return n;
    }

    /** Per prompt: its id, category, continuation length, baseline, then one effect column per intervention and seed. */
    static String csv(String window, List<PromptResult> results) {
        Set<String> columns = new LinkedHashSet<>();
        for (PromptResult r : results) {
            for (PromptResult.Row row : r.rows()) if (row.window().equals(window)) columns.add(column(row));
        }
        StringBuilder out = new StringBuilder("prompt_id,category,steps,baseline_late_kl");
        columns.forEach(c -> out.append(',').append(c));
        out.append('\n');
        for (PromptResult r : results) {
            out.append(quote(r.prompt())).append(',').append(quote(r.category())).append(',').append(r.continuation().length)
                    .append(',').append(number(r.baseline()));
            for (String c : columns) {
                String value = r.rows().stream().filter(row -> row.window().equals(window) && column(row).equals(c))
                        .map(row -> number(row.effect())).findFirst().orElse("");
                out.append(',').append(value);
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static String column(PromptResult.Row row) {
        return "effect_" + row.intervention().replace('-', '_') + (row.seed() >= 0 ? "_seed" + row.seed() : "");
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static String number(double v) { return String.format(Locale.ROOT, "%.9g", v); }

    /**
     * One bar chart per window (effects_NAME.png/.svg: a bar per intervention with its interval; one chart for all
     * windows would crowd the labels). Returns the SVG elements in window order.
     */
    static List<String> charts(Path out, GraftSummary s) {
        List<String> svgs = new ArrayList<>();
        for (WindowSummary w : s.windows()) {
            List<Interval> values = w.effects().stream().map(Effect::effect).toList();
            svgs.add(Plots.barChart(out.resolve("effects_" + w.name()),
                    "Window " + w.name() + " (layers " + w.layers() + "): change in late KL (nats)",
                    w.effects().stream().map(Effect::intervention).toList(),
                    values.stream().mapToDouble(Interval::mean).toArray(), values.stream().mapToDouble(Interval::lo).toArray(),
                    values.stream().mapToDouble(Interval::hi).toArray()));
        }
        return svgs;
    }

    static final String CSS = """
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
                   color: #222; line-height: 1.45; padding: 0 1em; }
            h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
            table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.95em; }
            th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; }
            th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
            .plot svg { width: 100%; height: auto; border: 1px solid #eee; }
            .note { color: #555; font-size: 0.9em; }
            """;

    /** The report section: a table of effects (interventions x windows, as the paper lays it out) and the charts. */
    public static String section(GraftSummary s, List<String> chartSvgs) {
        StringBuilder h = new StringBuilder("<h2>Matched-prefix MLP interventions</h2>\n");
        h.append(String.format(Locale.ROOT, "<p class=\"note\">Change in the host's mean late KL (decoder layers j &ge; "
                + "floor(0.8 n), against its own final distribution) on the IT teacher's tokens, versus the un-intervened "
                + "host; mean over each prompt's continuation, then over %d prompts, with %d%% percentile bootstrap "
                + "intervals (%d resamples). Random controls: mean over seeds.</p>\n",
                s.prompts(), Math.round(s.level() * 100), s.bootstrapSamples()));
        h.append("<table>\n<tr><th>Intervention</th>");
        for (WindowSummary w : s.windows()) h.append("<th>").append(escape(w.name())).append(" (").append(w.layers()).append(")</th>");
        h.append("</tr>\n<tr><td>baseline late KL</td>");
        for (WindowSummary w : s.windows()) h.append("<td>").append(format(w.baseline(), false)).append("</td>");
        h.append("</tr>\n");
        Set<String> interventions = new LinkedHashSet<>();
        s.windows().forEach(w -> w.effects().forEach(e -> interventions.add(e.intervention())));
        for (String i : interventions) {
            h.append("<tr><td>").append(escape(i)).append("</td>");
            for (WindowSummary w : s.windows()) {
                Effect e = w.effect(i);
                h.append("<td>").append(e == null ? "" : format(e.effect(), true)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
        for (String svg : chartSvgs) h.append("<div class=\"plot\">").append(svg).append("</div>\n");
        return h.toString();
    }

    private static String runTable(Map<String, String> runInfo) {
        StringBuilder h = new StringBuilder("<h2>Run</h2>\n<table>\n");
        runInfo.forEach((k, v) -> h.append("<tr><td>").append(escape(k)).append("</td><td style=\"text-align:left\">")
                .append(escape(v)).append("</td></tr>\n"));
        return h.append("</table>\n").toString();
    }

    public static String format(Interval i, boolean signed) {
        String f = signed ? "%+.3f [%+.3f, %+.3f]" : "%.3f [%.3f, %.3f]";
        return String.format(Locale.ROOT, f, i.mean(), i.lo(), i.hi());
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
