package cgap.tests;

import cgap.gap.stats.StudyStatistics;
import cgap.gap.stats.StudySummary;
import cgap.gap.stats.StudySummary.GapPoint;
import cgap.gap.stats.Windows;
import cgap.gap.study.StepRecord;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The study's window code against the paper's own numbers (arXiv 2605.07282, ../shared/paper): fed the paper's
 * per-layer mean KL curves, the statistics must reproduce its stored final-half means, CG, full-depth mean
 * difference and peak layer for all six PT/IT pairs, raw and tuned lens.
 * <p>
 * Each curve goes in as one prompt with one token step whose decoder-layer KL is the curve, so the whole path
 * (grouping, per-prompt and per-model means, windows, gap curve) runs on the paper's values.
 */
class PaperCheckTest {
    /** The JSON stores full doubles; only summation order may differ (measured differences are ~1e-16). */
    private static final double TOLERANCE = 1e-12;
    private static final List<String> PAIRS = List.of("gemma3_4b", "llama31_8b", "qwen3_4b", "mistral_7b",
            "deepseek_v2_lite", "olmo2_7b");

    static Path paperValues() {
        return Fixtures.repoRoot().resolve("../shared/paper/convergence_gap_values.json").normalize();
    }

    @Test
    void reproducesThePapersWindowsAndGaps() {
        Path file = paperValues();
        assertTrue(Files.isRegularFile(file), "the paper's values are missing: " + file + " (PaperCheckTest reads "
                + "<cgap.repo.root>/../shared/paper/convergence_gap_values.json; cgap.repo.root = "
                + System.getProperty("cgap.repo.root") + ")");
        JsonNode root = Fixtures.json(file);
        List<String> lenses = new ArrayList<>();
        root.fieldNames().forEachRemaining(lenses::add);
        assertTrue(lenses.contains("raw"), "no raw-lens values in " + file + ": " + lenses);

        int checked = 0;
        for (String lens : lenses) {
            JsonNode pairs = root.get(lens);
            List<String> names = new ArrayList<>();
            pairs.fieldNames().forEachRemaining(names::add);
            assertEquals(PAIRS.stream().sorted().toList(), names.stream().sorted().toList(), lens + " lens pairs");
            for (Iterator<Map.Entry<String, JsonNode>> it = pairs.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> pair = it.next();
                checkPair(lens + "/" + pair.getKey(), pair.getValue());
                checked++;
            }
        }
        assertTrue(checked >= PAIRS.size(), "checked " + checked + " pairs");
    }

    private static void checkPair(String name, JsonNode values) {
        int n = values.get("n_layers").asInt();
        double[] pt = doubles(values.get("mean_kl_pt_per_layer")), it = doubles(values.get("mean_kl_it_per_layer"));
        assertEquals(n, pt.length, name + ": PT curve length");
        assertEquals(n, it.length, name + ": IT curve length");
        assertEquals(values.get("half_start").asInt(), Windows.halfStart(n), name + ": final-half start");

        StudySummary s = StudyStatistics.summarize(List.of(record("pt", "pt_raw", pt), record("it", "it_native", it)), 1, 10);
        assertArrayEquals(pt, s.cell("pt", "pt_raw", "own").curve().stream().mapToDouble(p -> p.mean()).toArray(),
                name + ": PT curve passes through unchanged");
        close(values, "mean_kl_pt_final50pct", s.headline().ptFinalHalfKl().mean(), name);
        close(values, "mean_kl_it_final50pct", s.headline().itFinalHalfKl().mean(), name);
        close(values, "CG", s.headline().cg().mean(), name);
        close(values, "CG", s.headline().cgStepPooled().mean(), name);

        // equal depths: the gap curve is IT - PT layer by layer
        List<GapPoint> gap = s.gapCurve();
        assertEquals(n, gap.size(), name + ": gap curve on the layer grid");
        double sum = 0;
        int peak = 0;
        for (int j = 0; j < n; j++) {
            sum += gap.get(j).mean();
            if (Math.abs(gap.get(j).mean()) > Math.abs(gap.get(peak).mean())) peak = j;
        }
        close(values, "full_mean_diff", sum / n, name);
        assertEquals(values.get("peak_layer").asInt(), peak, name + ": peak layer (largest |IT - PT|)");
        close(values, "peak_diff", gap.get(peak).mean(), name);
    }

    /** One prompt, one step: decoder layer j carries the paper's mean KL of layer j (readout 0 is not used). */
    private static StepRecord record(String model, String regime, double[] curve) {
        int n = curve.length;
        double[] kl = new double[n + 1];
        System.arraycopy(curve, 0, kl, 1, n);
        return new StepRecord("paper", "", model, regime, "own", 0, 0, kl, new double[n + 1], new int[n + 1],
                new double[n], 0.5, 1.0, 2.0);
    }

    private static void close(JsonNode values, String field, double actual, String name) {
        assertTrue(values.has(field), name + ": no " + field + " in the paper's values");
        double expected = values.get(field).asDouble();
        assertEquals(expected, actual, TOLERANCE, name + ": " + field);
    }

    private static double[] doubles(JsonNode array) {
        double[] out = new double[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asDouble();
        return out;
    }
}
