package cgap.gap.stats;

import cgap.gap.stats.StudySummary.Category;
import cgap.gap.stats.StudySummary.Cell;
import cgap.gap.stats.StudySummary.CurvePoint;
import cgap.gap.stats.StudySummary.EndpointFree;
import cgap.gap.stats.StudySummary.Estimate;
import cgap.gap.stats.StudySummary.GapPoint;
import cgap.gap.stats.StudySummary.Headline;
import cgap.gap.stats.StudySummary.Matched;
import cgap.gap.stats.StudySummary.Replay;
import cgap.gap.study.StepRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Turns the per-step lens records of a study into its statistics (see HOOKS-AND-METRICS.md, "The
 * convergence-gap statistics"). Every mean is first taken over the token steps of a prompt, then over prompts;
 * every interval is a 95% percentile bootstrap over prompts.
 */
public final class StudyStatistics {
    static final double LEVEL = 0.95;
    static final String OWN = "own";
    static final CellKey PT_NATIVE = new CellKey("pt", "pt_raw", OWN);
    static final CellKey IT_NATIVE = new CellKey("it", "it_native", OWN);

    private final long seed;
    private final int samples;
    /** Resamples by number of prompts: every statistic over the same number of prompts shares the same draws. */
    private final Map<Integer, Bootstrap.Resamples> resamples = new HashMap<>();

    private StudyStatistics(long seed, int samples) {
        this.seed = seed;
        this.samples = samples;
    }

    private Bootstrap.Resamples resamplesFor(int prompts) {
        return resamples.computeIfAbsent(prompts, n -> Bootstrap.resamples(n, seed, samples));
    }

    /** Mean of per-prompt values with its interval. */
    private Bootstrap.Interval interval(double[] perPrompt) {
        return Bootstrap.clusterInterval(resamplesFor(perPrompt.length), LEVEL,
                counts -> Bootstrap.weightedMean(perPrompt, counts));
    }

    /**
     * Summarizes a study.
     *
     * @param steps            every token-step record of the run (any cells; unknown ones are reported per cell)
     * @param seed             seed of every bootstrap
     * @param bootstrapSamples resamples per interval
     */
    public static StudySummary summarize(List<StepRecord> steps, long seed, int bootstrapSamples) {
        if (bootstrapSamples < 1) throw new IllegalArgumentException("bootstrapSamples must be >= 1, got " + bootstrapSamples);
        return new StudyStatistics(seed, bootstrapSamples).run(steps);
    }

    /** A (model, regime, history) cell. */
    record CellKey(String model, String regime, String history) {
        String label() { return model + "/" + regime + "/" + history; }
    }

    /** One cell's steps, grouped by prompt. */
    private record CellData(CellKey key, int layers, List<StepRecord> steps, Map<String, List<StepRecord>> byPrompt) {
        long stepCount() { return steps.size(); }

        /** Per prompt (sorted by id): the mean over its steps of a per-step quantity. */
        Map<String, Double> promptMeans(ToDoubleFunction<StepRecord> perStep) {
            Map<String, Double> out = new TreeMap<>();
            byPrompt.forEach((id, list) -> {
                double sum = 0;
                for (StepRecord s : list) sum += perStep.applyAsDouble(s);
                out.put(id, sum / list.size());
            });
            return out;
        }

        /** Per prompt: the mean KL curve over its steps, [layers]. */
        Map<String, double[]> promptCurves() {
            Map<String, double[]> out = new TreeMap<>();
            byPrompt.forEach((id, list) -> {
                double[] curve = new double[layers];
                for (StepRecord s : list)
                    for (int j = 0; j < layers; j++) curve[j] += Windows.kl(s, j);
                for (int j = 0; j < layers; j++) curve[j] /= list.size();
                out.put(id, curve);
            });
            return out;
        }

        CellData restrictedTo(Set<String> prompts) {
            Map<String, List<StepRecord>> kept = new TreeMap<>(byPrompt);
            kept.keySet().retainAll(prompts);
            List<StepRecord> keptSteps = new ArrayList<>();
            kept.values().forEach(keptSteps::addAll);
            return new CellData(key, layers, keptSteps, kept);
        }
    }

    private StudySummary run(List<StepRecord> records) {
        Map<CellKey, CellData> cells = group(records);
        List<String> notes = new ArrayList<>();
        List<Cell> cellSummaries = new ArrayList<>();
        for (CellData cell : cells.values()) cellSummaries.add(cellSummary(cell));

        CellData pt = cells.get(PT_NATIVE), it = cells.get(IT_NATIVE);
        Headline headline = null;
        List<GapPoint> gapCurve = List.of();
        List<Category> categories = List.of();
        EndpointFree endpointFree = null;
        Matched matched = null;
        if (pt != null && it != null) {
            headline = headline(pt, it, notes);
            gapCurve = gapCurve(pt, it);
            categories = categories(pt, it);
            endpointFree = endpointFree(pt, it, notes);
            matched = Cem.match(IT_NATIVE.label(), it.steps(), PT_NATIVE.label(), pt.steps(), this::resamplesFor, LEVEL);
        } else {
            notes.add("no headline: needs both native cells " + PT_NATIVE.label() + " and " + IT_NATIVE.label());
        }
        List<Replay> replay = replay(cells);
        notes.add("intervals: " + (int) Math.round(LEVEL * 100) + "% percentile bootstrap over prompts, " + samples
                + " resamples, seed " + seed + "; means are over token steps within a prompt, then over prompts");
        notes.add("gaps resample prompt ids from the union of both groups' prompts (paired when both have the prompt)");
        notes.add("endpoint-matched: " + Cem.WEIGHTING + "; IT native is treated, PT raw is control; bins fixed "
                + "from all steps, prompts resampled within them; SMD scale is the pre-matching pooled SD");
        return new StudySummary(seed, samples, LEVEL, cellSummaries, headline, gapCurve, categories, endpointFree,
                matched, replay, notes);
    }

    private static Map<CellKey, CellData> group(List<StepRecord> records) {
        Map<CellKey, List<StepRecord>> lists = new TreeMap<>(
                Comparator.comparing(CellKey::model).thenComparing(CellKey::regime).thenComparing(CellKey::history));
        for (StepRecord s : records) {
            validate(s);
            lists.computeIfAbsent(new CellKey(s.model(), s.regime(), s.history()), k -> new ArrayList<>()).add(s);
        }
        Map<CellKey, CellData> cells = new LinkedHashMap<>();
        lists.forEach((key, steps) -> {
            int layers = steps.getFirst().layers();
            Map<String, List<StepRecord>> byPrompt = new TreeMap<>();
            for (StepRecord s : steps) {
                if (s.layers() != layers)
                    throw new IllegalArgumentException("cell " + key.label() + " mixes " + layers + " and "
                            + s.layers() + " layers (prompt " + s.promptId() + " step " + s.step() + ")");
                byPrompt.computeIfAbsent(s.promptId(), id -> new ArrayList<>()).add(s);
            }
            cells.put(key, new CellData(key, layers, steps, byPrompt));
        });
        return cells;
    }

    private static void validate(StepRecord s) {
        String where = "step record (prompt " + s.promptId() + ", step " + s.step() + ", " + s.model() + "/"
                + s.regime() + "/" + s.history() + ")";
        if (s.promptId() == null || s.model() == null || s.regime() == null || s.history() == null)
            throw new IllegalArgumentException(where + ": promptId, model, regime and history must be set");
        if (s.kl() == null || s.kl().length < 2)
            throw new IllegalArgumentException(where + ": kl needs L + 1 >= 2 readouts");
        int readouts = s.kl().length;
        if (s.entropy() == null || s.entropy().length != readouts || s.top1() == null || s.top1().length != readouts
                || s.adjacentJs() == null || s.adjacentJs().length != readouts - 1)
            throw new IllegalArgumentException(where + ": kl, entropy and top1 need " + readouts
                    + " values and adjacentJs " + (readouts - 1));
    }

    private Cell cellSummary(CellData cell) {
        int n = cell.layers();
        Map<String, double[]> curves = cell.promptCurves();
        List<CurvePoint> curve = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            int layer = j;
            Bootstrap.Interval iv = interval(curves.values().stream().mapToDouble(c -> c[layer]).toArray());
            curve.add(new CurvePoint(j, Windows.depth(j, n), iv.mean(), iv.lo(), iv.hi()));
        }
        boolean endpointFree = Windows.hasLatePreFinal(n);
        return new Cell(cell.key().model(), cell.key().regime(), cell.key().history(), n, cell.byPrompt().size(),
                cell.stepCount(), Windows.lateStart(n), Windows.halfStart(n),
                mean(cell, Windows::lateKl), mean(cell, Windows::finalHalfKl),
                endpointFree ? mean(cell, Windows::remainingJsPath) : null,
                endpointFree ? mean(cell, Windows::futureFlips) : null, curve);
    }

    private Estimate mean(CellData cell, ToDoubleFunction<StepRecord> perStep) {
        Map<String, Double> perPrompt = cell.promptMeans(perStep);
        Bootstrap.Interval iv = interval(perPrompt.values().stream().mapToDouble(Double::doubleValue).toArray());
        return new Estimate(iv.mean(), iv.lo(), iv.hi(), iv.n(), cell.stepCount());
    }

    /** IT minus PT of per-prompt means, over the union of their prompt ids (see {@link #gap(Map, Map, long)}). */
    private Estimate gap(CellData it, CellData pt, ToDoubleFunction<StepRecord> perStep) {
        return gap(it.promptMeans(perStep), pt.promptMeans(perStep), it.stepCount() + pt.stepCount());
    }

    /**
     * a minus b, each the mean of its per-prompt values. A resample draws prompt ids from the union of both key
     * sets; each side averages the drawn ids it has. With equal key sets this is the paired bootstrap of per-prompt
     * differences; prompts only one side has still count for that side.
     */
    private Estimate gap(Map<String, Double> a, Map<String, Double> b, long steps) {
        TreeSet<String> union = new TreeSet<>(a.keySet());
        union.addAll(b.keySet());
        List<String> ids = new ArrayList<>(union);
        double[] aValues = new double[ids.size()], bValues = new double[ids.size()];
        for (int i = 0; i < ids.size(); i++) {
            aValues[i] = a.getOrDefault(ids.get(i), Double.NaN);
            bValues[i] = b.getOrDefault(ids.get(i), Double.NaN);
        }
        Bootstrap.Interval iv = Bootstrap.clusterInterval(resamplesFor(ids.size()), LEVEL,
                counts -> Bootstrap.weightedMean(aValues, counts) - Bootstrap.weightedMean(bValues, counts));
        return new Estimate(iv.mean(), iv.lo(), iv.hi(), iv.n(), steps);
    }

    private Headline headline(CellData pt, CellData it, List<String> notes) {
        TreeSet<String> shared = new TreeSet<>(pt.byPrompt().keySet());
        shared.retainAll(it.byPrompt().keySet());
        int ptOnly = pt.byPrompt().size() - shared.size(), itOnly = it.byPrompt().size() - shared.size();
        String pairing = ptOnly == 0 && itOnly == 0
                ? "paired by prompt id (both models have the same " + shared.size() + " prompts)"
                : "partly paired: " + shared.size() + " shared prompts, " + ptOnly + " PT-only, " + itOnly
                  + " IT-only; each model's mean uses all its prompts and resamples draw from the union of ids";
        if (ptOnly != 0 || itOnly != 0) notes.add("headline prompts differ between models: " + pairing);
        return new Headline(pt.layers(), it.layers(), pairing, shared.size(), ptOnly, itOnly,
                mean(pt, Windows::finalHalfKl), mean(it, Windows::finalHalfKl), gap(it, pt, Windows::finalHalfKl),
                stepPooledGap(it, pt, Windows::finalHalfKl),
                mean(pt, Windows::lateKl), mean(it, Windows::lateKl), gap(it, pt, Windows::lateKl));
    }

    /** IT minus PT with every token step weighted equally; resamples draw prompt ids with all their steps. */
    private Estimate stepPooledGap(CellData it, CellData pt, ToDoubleFunction<StepRecord> perStep) {
        TreeSet<String> union = new TreeSet<>(it.byPrompt().keySet());
        union.addAll(pt.byPrompt().keySet());
        List<String> ids = new ArrayList<>(union);
        double[][] sums = new double[2][ids.size()], counts = new double[2][ids.size()];
        CellData[] sides = {it, pt};
        for (int side = 0; side < 2; side++)
            for (int i = 0; i < ids.size(); i++) {
                List<StepRecord> list = sides[side].byPrompt().getOrDefault(ids.get(i), List.of());
                for (StepRecord s : list) sums[side][i] += perStep.applyAsDouble(s);
                counts[side][i] = list.size();
            }
        Bootstrap.Interval iv = Bootstrap.clusterInterval(resamplesFor(ids.size()), LEVEL, draw -> {
            double[] mean = new double[2];
            for (int side = 0; side < 2; side++) {
                double sum = 0, count = 0;
                for (int i = 0; i < draw.length; i++) {
                    sum += draw[i] * sums[side][i];
                    count += draw[i] * counts[side][i];
                }
                mean[side] = count == 0 ? Double.NaN : sum / count;
            }
            return mean[0] - mean[1];
        });
        return new Estimate(iv.mean(), iv.lo(), iv.hi(), iv.n(), it.stepCount() + pt.stepCount());
    }

    /**
     * IT minus PT mean KL at equal normalized depth, on the deeper model's grid j/(m-1): each prompt's curve is
     * interpolated linearly in depth onto the grid (the identity when both have the same depth).
     */
    private List<GapPoint> gapCurve(CellData pt, CellData it) {
        int m = Math.max(pt.layers(), it.layers());
        Map<String, double[]> ptCurves = pt.promptCurves(), itCurves = it.promptCurves();
        List<GapPoint> out = new ArrayList<>();
        for (int g = 0; g < m; g++) {
            double depth = Windows.depth(g, m);
            Estimate e = gap(atDepth(itCurves, depth), atDepth(ptCurves, depth), it.stepCount() + pt.stepCount());
            out.add(new GapPoint(depth, e.mean(), e.lo(), e.hi()));
        }
        return out;
    }

    private static Map<String, Double> atDepth(Map<String, double[]> curves, double depth) {
        Map<String, Double> out = new TreeMap<>();
        curves.forEach((id, curve) -> out.put(id, interpolate(curve, depth)));
        return out;
    }

    /** A per-layer curve (layer j at depth j/(n-1)) read at a normalized depth, linearly between layers. */
    static double interpolate(double[] curve, double depth) {
        int n = curve.length;
        if (n == 1) return curve[0];
        double position = depth * (n - 1);
        long nearest = Math.round(position);
        if (Math.abs(position - nearest) < 1e-9) return curve[(int) nearest];  // on a layer: no rounding noise
        int below = Math.min((int) Math.floor(position), n - 2);
        double fraction = position - below;
        return curve[below] + fraction * (curve[below + 1] - curve[below]);
    }

    private List<Category> categories(CellData pt, CellData it) {
        Map<String, Set<String>> promptsByCategory = new TreeMap<>();
        for (CellData cell : List.of(pt, it))
            cell.byPrompt().forEach((id, list) ->
                    promptsByCategory.computeIfAbsent(list.getFirst().category() == null ? "" : list.getFirst().category(),
                            c -> new TreeSet<>()).add(id));
        List<Category> out = new ArrayList<>();
        promptsByCategory.forEach((category, ids) -> {
            CellData ptPart = pt.restrictedTo(ids), itPart = it.restrictedTo(ids);
            if (ptPart.steps().isEmpty() || itPart.steps().isEmpty()) return;
            out.add(new Category(category, mean(ptPart, Windows::finalHalfKl), mean(itPart, Windows::finalHalfKl),
                    gap(itPart, ptPart, Windows::finalHalfKl), mean(ptPart, Windows::lateKl),
                    mean(itPart, Windows::lateKl), gap(itPart, ptPart, Windows::lateKl)));
        });
        return out;
    }

    private EndpointFree endpointFree(CellData pt, CellData it, List<String> notes) {
        if (!Windows.hasLatePreFinal(pt.layers()) || !Windows.hasLatePreFinal(it.layers())) {
            notes.add("no endpoint-free checks: they need a late pre-final layer, i.e. n >= 6 (PT n = " + pt.layers()
                    + ", IT n = " + it.layers() + ")");
            return null;
        }
        return new EndpointFree(mean(pt, Windows::remainingJsPath), mean(it, Windows::remainingJsPath),
                gap(it, pt, Windows::remainingJsPath), mean(pt, Windows::futureFlips), mean(it, Windows::futureFlips),
                gap(it, pt, Windows::futureFlips));
    }

    /**
     * Replay contrasts between cells that read the same tokens. For each history h (a regime whose native
     * continuation was forced through other cells), the cell "model m in regime r on h's tokens" is m's own cell
     * when r is h and m is the model native to h, else the replay cell (m, r, h). First the paper's fixed-history
     * audit: IT native - PT raw, IT raw - PT raw, IT native - IT raw; then every other replay cell minus the
     * native cell of its history (the own cell that produced the tokens).
     */
    private List<Replay> replay(Map<CellKey, CellData> cells) {
        TreeSet<String> histories = new TreeSet<>(Comparator.comparingInt(StudyStatistics::historyRank)
                .thenComparing(Comparator.naturalOrder()));
        for (CellKey key : cells.keySet()) if (!key.history().equals(OWN)) histories.add(key.history());
        List<Replay> out = new ArrayList<>();
        for (String history : histories) {
            CellData itNative = onTokens(cells, "it", "it_native", history);
            CellData itRaw = onTokens(cells, "it", "it_raw", history);
            CellData ptRaw = onTokens(cells, "pt", "pt_raw", history);
            Set<CellKey> audited = new HashSet<>();
            for (CellData[] pair : new CellData[][]{{itNative, ptRaw}, {itRaw, ptRaw}, {itNative, itRaw}}) {
                if (pair[0] == null || pair[1] == null) continue;
                out.add(contrast(history, pair[0], pair[1], true));
                audited.add(pair[0].key());
                audited.add(pair[1].key());
            }
            CellData nativeCell = cells.values().stream()
                    .filter(c -> c.key().history().equals(OWN) && c.key().regime().equals(history)).findFirst().orElse(null);
            if (nativeCell == null) continue;
            for (CellData cell : cells.values()) {
                boolean lensModel = cell.key().model().equals("pt") || cell.key().model().equals("it");
                if (!lensModel || !cell.key().history().equals(history)) continue;
                boolean bothAudited = audited.contains(cell.key()) && audited.contains(nativeCell.key());
                if (!bothAudited) out.add(contrast(history, cell, nativeCell, false));
            }
        }
        return out;
    }

    /** The cell of model m in regime r reading the tokens of history h (its own cell when it produced them). */
    private static CellData onTokens(Map<CellKey, CellData> cells, String model, String regime, String history) {
        CellData replay = cells.get(new CellKey(model, regime, history));
        if (replay != null) return replay;
        return regime.equals(history) ? cells.get(new CellKey(model, regime, OWN)) : null;
    }

    private static int historyRank(String history) {
        return switch (history) {
            case "it_native" -> 0;
            case "pt_raw" -> 1;
            default -> 2;
        };
    }

    /** first minus second late KL, step by step on (prompt, step) with equal tokens, and by CEM. */
    private Replay contrast(String history, CellData first, CellData second, boolean audit) {
        Map<String, StepRecord> secondByStep = new HashMap<>();
        for (StepRecord s : second.steps()) secondByStep.put(s.promptId() + "\u0000" + s.step(), s);
        Map<String, double[]> perPrompt = new TreeMap<>();  // {sum of differences, count}
        long paired = 0, mismatched = 0;
        for (StepRecord s : first.steps()) {
            StepRecord other = secondByStep.get(s.promptId() + "\u0000" + s.step());
            if (other == null) continue;
            if (other.token() != s.token()) {
                mismatched++;
                continue;
            }
            double[] acc = perPrompt.computeIfAbsent(s.promptId(), id -> new double[2]);
            acc[0] += Windows.lateKl(s) - Windows.lateKl(other);
            acc[1]++;
            paired++;
        }
        double[] values = perPrompt.values().stream().mapToDouble(acc -> acc[0] / acc[1]).toArray();
        Bootstrap.Interval iv = interval(values);
        Matched matched = Cem.match(first.key().label(), first.steps(), second.key().label(), second.steps(),
                this::resamplesFor, LEVEL);
        return new Replay(history, audit, first.key().label(), second.key().label(), paired, mismatched,
                new Estimate(iv.mean(), iv.lo(), iv.hi(), iv.n(), paired), matched);
    }
}
