package cgap.gap.report;

import cgap.gap.stats.StudySummary;
import cgap.gap.stats.StudySummary.Balance;
import cgap.gap.stats.StudySummary.Category;
import cgap.gap.stats.StudySummary.Cell;
import cgap.gap.stats.StudySummary.EndpointFree;
import cgap.gap.stats.StudySummary.Estimate;
import cgap.gap.stats.StudySummary.Headline;
import cgap.gap.stats.StudySummary.Matched;
import cgap.gap.stats.StudySummary.Replay;

import java.util.Locale;
import java.util.Map;

/** The self-contained report.html: inline CSS and inline SVG plots, no external files. */
final class ReportHtml {
    private ReportHtml() {}

    private static final String CSS = """
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
                   color: #222; line-height: 1.45; padding: 0 1em; }
            h1 { font-size: 1.7em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
            table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.95em; }
            th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; }
            th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
            tr.key td { font-weight: bold; background: #fbf7e9; }
            .plot svg { width: 100%; height: auto; border: 1px solid #eee; }
            .note { color: #555; font-size: 0.9em; } code { background: #f4f4f4; padding: 0 0.2em; }
            """;

    static String render(StudySummary s, Map<String, String> runInfo, String klSvg, String gapSvg) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>cgap convergence-gap report</title>\n");
        h.append("<style>").append(CSS).append("</style></head><body>\n");
        h.append("<h1>Convergence-gap report</h1>\n");
        h.append("<p class=\"note\">Logit-lens KL(p<sub>j</sub> || p<sub>L</sub>) of every decoder layer against the "
                + "model's own final distribution, in nats. Means over token steps within a prompt, then over prompts; ")
                .append(String.format(Locale.ROOT, "%d%% percentile bootstrap intervals over prompts (%d resamples, seed %d).",
                        Math.round(s.level() * 100), s.bootstrapSamples(), s.seed()))
                .append("</p>\n");

        headline(h, s.headline());
        h.append("<h2>Curves</h2>\n<div class=\"plot\">").append(klSvg).append("</div>\n");
        h.append("<div class=\"plot\">").append(gapSvg).append("</div>\n");
        categories(h, s);
        endpoint(h, s.endpointFree(), s.endpointMatched());
        replay(h, s);
        cells(h, s);

        h.append("<h2>Run</h2>\n<table>\n");
        runInfo.forEach((k, v) -> h.append("<tr><td>").append(escape(k)).append("</td><td style=\"text-align:left\">")
                .append(escape(v)).append("</td></tr>\n"));
        h.append("</table>\n<h2>Notes</h2>\n<ul>\n");
        for (String note : s.notes()) h.append("<li>").append(escape(note)).append("</li>\n");
        h.append("</ul>\n</body></html>\n");
        return h.toString();
    }

    private static void headline(StringBuilder h, Headline hl) {
        h.append("<h2>Headline</h2>\n");
        if (hl == null) {
            h.append("<p>No native PT/IT pair (pt/pt_raw/own and it/it_native/own) in this run.</p>\n");
            return;
        }
        h.append(String.format(Locale.ROOT, "<p>PT: %d decoder layers (final 50%%: j &ge; %d; late: j &ge; %d). "
                        + "IT: %d decoder layers (final 50%%: j &ge; %d; late: j &ge; %d). Prompts: %s.</p>\n",
                hl.ptLayers(), hl.ptLayers() / 2, (4 * hl.ptLayers()) / 5, hl.itLayers(), hl.itLayers() / 2,
                (4 * hl.itLayers()) / 5, escape(hl.pairing())));
        h.append(estimateHeader("Quantity"));
        row(h, "PT mean KL, final 50%", hl.ptFinalHalfKl(), false, false);
        row(h, "IT mean KL, final 50%", hl.itFinalHalfKl(), false, false);
        row(h, "CG = IT &minus; PT, final 50%", hl.cg(), true, true);
        row(h, "CG, token steps pooled (paper's weighting)", hl.cgStepPooled(), true, false);
        row(h, "PT late KL, final 20%", hl.ptLateKl(), false, false);
        row(h, "IT late KL, final 20%", hl.itLateKl(), false, false);
        row(h, "Late-KL gap IT &minus; PT", hl.lateKlGap(), true, true);
        h.append("</table>\n");
    }

    private static void categories(StringBuilder h, StudySummary s) {
        if (s.categories().isEmpty()) return;
        h.append("<h2>Per category</h2>\n<table><tr><th>Category</th><th>Prompts</th><th>PT final 50%</th>"
                + "<th>IT final 50%</th><th>CG [95%]</th><th>Late-KL gap [95%]</th></tr>\n");
        for (Category c : s.categories()) {
            h.append("<tr><td>").append(escape(c.category().isEmpty() ? "(none)" : c.category())).append("</td><td>")
                    .append(c.cg().prompts()).append("</td><td>").append(StudyReport.number(c.ptFinalHalfKl().mean(), false))
                    .append("</td><td>").append(StudyReport.number(c.itFinalHalfKl().mean(), false)).append("</td><td>")
                    .append(withInterval(c.cg())).append("</td><td>").append(withInterval(c.lateKlGap()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void endpoint(StringBuilder h, EndpointFree f, Matched m) {
        h.append("<h2>Endpoint controls</h2>\n");
        if (f == null && m == null) {
            h.append("<p>Not available in this run (needs both native cells; endpoint-free checks need n &ge; 6).</p>\n");
            return;
        }
        h.append(estimateHeader("Check"));
        if (m != null) row(h, "Endpoint-matched late-KL gap IT &minus; PT (CEM)", m.lateKlGap(), true, true);
        if (f != null) {
            row(h, "Endpoint-free remaining adjacent JS path, IT &minus; PT", f.jsPathGap(), true, true);
            row(h, "&nbsp;&nbsp;PT remaining JS path", f.ptJsPath(), false, false);
            row(h, "&nbsp;&nbsp;IT remaining JS path", f.itJsPath(), false, false);
            row(h, "Endpoint-free future top-1 flips, IT &minus; PT", f.flipsGap(), true, true);
            row(h, "&nbsp;&nbsp;PT future flips", f.ptFlips(), false, false);
            row(h, "&nbsp;&nbsp;IT future flips", f.itFlips(), false, false);
        }
        h.append("</table>\n");
        if (m != null) matchedDetails(h, m);
    }

    private static void matchedDetails(StringBuilder h, Matched m) {
        h.append(String.format(Locale.ROOT, "<p class=\"note\">CEM %s (treated) vs %s (control): %d of %d strata matched; "
                        + "retention %.3f of %d treated steps, %.3f of %d control steps; unmatched late-KL gap %s. %s.</p>\n",
                escape(m.treated()), escape(m.control()), m.matchedStrata(), m.strata(), m.retentionTreated(),
                m.treatedSteps(), m.retentionControl(), m.controlSteps(), StudyReport.number(m.unmatchedGap(), true),
                escape(m.weighting())));
        h.append("<table><tr><th>Covariate</th><th>SMD before</th><th>SMD after</th></tr>\n");
        for (Balance b : m.balance())
            h.append("<tr><td>").append(escape(b.covariate())).append("</td><td>")
                    .append(StudyReport.number(b.smdBefore(), true)).append("</td><td>")
                    .append(StudyReport.number(b.smdAfter(), true)).append("</td></tr>\n");
        h.append("<tr class=\"key\"><td>max |SMD|</td><td>").append(StudyReport.number(m.maxSmdBefore(), false))
                .append("</td><td>").append(StudyReport.number(m.maxSmdAfter(), false)).append("</td></tr>\n</table>\n");
    }

    private static void replay(StringBuilder h, StudySummary s) {
        if (s.replay().isEmpty()) return;
        h.append("<h2>Fixed-history replay</h2>\n<p class=\"note\">Cells reading the same tokens (one model's native "
                + "continuation, forced), compared on the same prompt and step (late KL, first minus second) and by CEM on "
                + "endpoint covariates (first cell treated). The paper's audit contrasts come first.</p>\n");
        h.append("<table><tr><th>History</th><th>Contrast</th><th>Paired steps</th><th>Paired [95%]</th>"
                + "<th>CEM [95%]</th><th>CEM retention first / second, max |SMD|</th></tr>\n");
        for (Replay r : s.replay()) {
            Matched m = r.matched();
            h.append(r.audit() ? "<tr class=\"key\"><td>" : "<tr><td>").append(escape(r.history())).append("</td><td>")
                    .append(escape(StudyReport.replayName(r))).append("</td><td>").append(r.pairedSteps())
                    .append(r.tokenMismatches() > 0 ? " (" + r.tokenMismatches() + " token mismatches left out)" : "")
                    .append("</td><td>").append(withInterval(r.paired())).append("</td><td>")
                    .append(m == null ? "n/a" : withInterval(m.lateKlGap())).append("</td><td>")
                    .append(m == null ? "n/a" : String.format(Locale.ROOT, "%.3f / %.3f, %s",
                            m.retentionTreated(), m.retentionControl(), StudyReport.number(m.maxSmdAfter(), false)))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void cells(StringBuilder h, StudySummary s) {
        h.append("<h2>All cells</h2>\n<table><tr><th>Model / regime / history</th><th>Layers</th><th>Prompts</th>"
                + "<th>Steps</th><th>Late KL [95%]</th><th>Final-50% KL [95%]</th></tr>\n");
        for (Cell c : s.cells())
            h.append("<tr><td>").append(escape(c.label())).append("</td><td>").append(c.layers()).append("</td><td>")
                    .append(c.prompts()).append("</td><td>").append(c.steps()).append("</td><td>")
                    .append(withInterval(c.lateKl(), false)).append("</td><td>").append(withInterval(c.finalHalfKl(), false))
                    .append("</td></tr>\n");
        h.append("</table>\n");
    }

    private static String estimateHeader(String first) {
        return "<table><tr><th>" + first + "</th><th>Estimate</th><th>95% interval</th><th>Prompts</th><th>Steps</th></tr>\n";
    }

    private static void row(StringBuilder h, String label, Estimate e, boolean signed, boolean key) {
        h.append(key ? "<tr class=\"key\">" : "<tr>").append("<td>").append(label).append("</td><td>")
                .append(StudyReport.number(e.mean(), signed)).append("</td><td>[")
                .append(StudyReport.number(e.lo(), signed)).append(", ").append(StudyReport.number(e.hi(), signed))
                .append("]</td><td>").append(e.prompts()).append("</td><td>").append(e.steps()).append("</td></tr>\n");
    }

    private static String withInterval(Estimate e) { return withInterval(e, true); }

    private static String withInterval(Estimate e, boolean signed) {
        return StudyReport.number(e.mean(), signed) + " [" + StudyReport.number(e.lo(), signed) + ", "
                + StudyReport.number(e.hi(), signed) + "]";
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
