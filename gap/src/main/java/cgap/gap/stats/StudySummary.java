package cgap.gap.stats;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Everything a study run reports: each number with its 95% percentile bootstrap interval over prompts and its n.
 * Differences are always IT minus PT (or, for replay contrasts, the first cell minus the second). Parts that need
 * cells the run did not produce are null (e.g. no headline without both native cells).
 *
 * @param seed             seed of every bootstrap
 * @param bootstrapSamples resamples per interval
 * @param level            interval coverage (0.95)
 * @param cells            every (model, regime, history) cell found in the records, with its curve
 * @param headline         the native PT vs IT comparison, or null
 * @param gapCurve         IT minus PT mean KL at equal normalized depth, or empty
 * @param categories       the headline per prompt category
 * @param endpointFree     remaining JS path and future top-1 flips, or null (needs n >= 6 for both models)
 * @param endpointMatched  late-KL gap on endpoint-matched (CEM) native steps, or null
 * @param replay           paired contrasts between cells that read the same tokens
 * @param notes            how the numbers were made where a choice was involved (pairing, weighting, ...)
 */
public record StudySummary(long seed, int bootstrapSamples, double level, List<Cell> cells, Headline headline,
                           List<GapPoint> gapCurve, List<Category> categories, EndpointFree endpointFree,
                           Matched endpointMatched, List<Replay> replay, List<String> notes) {

    /** A mean (over prompts, unless said otherwise) with its interval; steps counts token steps behind it. */
    public record Estimate(double mean, double lo, double hi, int prompts, long steps) {}

    /** One point of a per-layer curve: decoder layer j at normalized depth j/(n-1). */
    public record CurvePoint(int layer, double depth, double mean, double lo, double hi) {}

    /** One point of the IT minus PT curve on the common depth grid. */
    public record GapPoint(double depth, double mean, double lo, double hi) {}

    /**
     * All token steps of one model under one regime and history.
     *
     * @param history         "own" (the model's own greedy continuation) or the regime whose continuation was forced
     * @param lateStart       first decoder layer of the late window, floor(0.8 n)
     * @param halfStart       first decoder layer of the final half, floor(n / 2)
     * @param remainingJsPath null when n < 6 (no late pre-final layer)
     * @param futureFlips     null when n < 6
     * @param curve           mean KL(p_j || p_L) per decoder layer
     */
    public record Cell(String model, String regime, String history, int layers, int prompts, long steps,
                       int lateStart, int halfStart, Estimate lateKl, Estimate finalHalfKl,
                       Estimate remainingJsPath, Estimate futureFlips, List<CurvePoint> curve) {
        public String label() { return model + "/" + regime + "/" + history; }
    }

    /**
     * PT (pt_raw, own tokens) against IT (it_native, own tokens).
     *
     * @param pairing       how prompts were paired for the intervals
     * @param cg            IT minus PT final-half mean KL, prompts weighted equally (the bootstrapped headline)
     * @param cgStepPooled  the same with every token step weighted equally (the paper's point estimate: each curve is
     *                      the mean over all generated steps); its interval resamples prompts with all their steps
     * @param lateKlGap     IT minus PT late-window KL
     */
    public record Headline(int ptLayers, int itLayers, String pairing, int sharedPrompts, int ptOnlyPrompts,
                           int itOnlyPrompts, Estimate ptFinalHalfKl, Estimate itFinalHalfKl, Estimate cg,
                           Estimate cgStepPooled, Estimate ptLateKl, Estimate itLateKl, Estimate lateKlGap) {}

    /** The headline restricted to one prompt category ("" for prompts without one). */
    public record Category(String category, Estimate ptFinalHalfKl, Estimate itFinalHalfKl, Estimate cg,
                           Estimate ptLateKl, Estimate itLateKl, Estimate lateKlGap) {}

    /** Endpoint-free checks on the native cells: each per step averaged over late pre-final layers. */
    public record EndpointFree(Estimate ptJsPath, Estimate itJsPath, Estimate jsPathGap, Estimate ptFlips,
                               Estimate itFlips, Estimate flipsGap) {}

    /** Standardized mean difference of one endpoint covariate, before and after matching. */
    public record Balance(String covariate, double smdBefore, double smdAfter) {}

    /**
     * Coarsened exact matching of two groups of token steps on decile bins of the final distribution's top-1
     * probability, entropy and top1-top2 log-prob margin.
     *
     * @param treated        the group whose step distribution the comparison is weighted to (weight 1 per kept step)
     * @param control        the group reweighted per stratum
     * @param strata         occupied strata (either group)
     * @param matchedStrata  strata holding steps of both groups (kept)
     * @param unmatchedGap   treated minus control late KL over all steps, steps weighted equally
     * @param lateKlGap      treated minus control late KL on the matched steps, CEM-weighted
     * @param weighting      the weighting, in words
     */
    public record Matched(String treated, String control, int strata, int matchedStrata, long treatedSteps,
                          long controlSteps, long treatedKept, long controlKept, double retentionTreated,
                          double retentionControl, double unmatchedGap, Estimate lateKlGap, List<Balance> balance,
                          double maxSmdBefore, double maxSmdAfter, String weighting) {}

    /**
     * Two cells that read the same tokens (the same history), compared step by step.
     *
     * @param history          whose continuation both cells read (a regime name)
     * @param audit            one of the paper's fixed-history audit contrasts (IT native - PT raw, IT raw - PT raw,
     *                         IT native - IT raw); otherwise a replay cell minus the native cell of its history
     * @param minuend          label of the first cell
     * @param subtrahend       label of the second cell
     * @param pairedSteps      steps present in both cells with the same token
     * @param tokenMismatches  steps present in both whose tokens differ (left out)
     * @param paired           mean over prompts of the per-prompt mean paired late-KL difference
     * @param matched          CEM on endpoint covariates, first cell treated, or null when a cell is empty
     */
    public record Replay(String history, boolean audit, String minuend, String subtrahend, long pairedSteps, long tokenMismatches,
                         Estimate paired, Matched matched) {}

    /** The summary as indented JSON; non-finite numbers (undefined statistics) are written as null. */
    public String toJson() {
        try {
            return MAPPER.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The cell with this key, or null. */
    public Cell cell(String model, String regime, String history) {
        for (Cell c : cells)
            if (c.model().equals(model) && c.regime().equals(regime) && c.history().equals(history)) return c;
        return null;
    }

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .registerModule(new SimpleModule().addSerializer(double.class, new FiniteOrNull())
                    .addSerializer(Double.class, new FiniteOrNull()));

    private static final class FiniteOrNull extends JsonSerializer<Double> {
        @Override
        public void serialize(Double value, JsonGenerator out, SerializerProvider provider) throws IOException {
            if (Double.isFinite(value)) out.writeNumber(value);
            else out.writeNull();
        }
    }
}
