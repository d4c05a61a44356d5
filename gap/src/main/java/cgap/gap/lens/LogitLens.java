package cgap.gap.lens;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Transformer;
import cgap.kernels.Activations;
import cgap.kernels.MatMul;
import cgap.kernels.Parallel;
import cgap.kernels.WeightMatrix;

import java.util.Arrays;

/**
 * The logit lens at scale: every readout of a residual stack at every position, reduced straight to the
 * contract's metrics (KL both ways, entropy, top-1, rank of the final top-1) without ever holding
 * [readouts x positions x vocabulary] logits.
 *
 * <p>How. Readout rows are copied position-major into blocks of about {@value #BLOCK_ROWS} rows and final-normed
 * in place: enough rows to reuse each decoded weight row many times, few enough that a block's inputs stay in
 * the L2 cache while the GEMM streams over them (measured on the 2-core Zen 5 machine at d = 2048: 64-68 rows
 * give 76 GFLOP per core-second, 119 rows 65, 256 rows 54). The vocabulary is walked in chunks of {@value #VOCAB_CHUNK} unembedding rows, as a
 * {@link WeightMatrix} view of that row range, so each chunk's weights are read from memory once and reused by
 * every block. Two passes over the vocabulary:
 * <ol>
 *   <li>the final readout alone: its log-partition log Z_f, top-1, top-2 and entropy per position;</li>
 *   <li>every readout (the final one recomputed beside them, since KL needs z_f per id): per row a streaming
 *       log-sum-exp with the sums below, rescaled whenever the row's running max grows.</li>
 * </ol>
 * With e = exp(z - m) (m the running max of readout z), S = sum e:
 * KL(p || p_f) = (sum e (z - z_f)) / S - log Z + log Z_f, so the difference z - z_f is summed directly and a
 * small KL is not the difference of two large numbers; H(p) = log S - (sum e (z - m)) / S;
 * KL(p_f || p) = sum p_f (z_f - z) - log Z_f + log Z, where p_f is exact after pass 1.
 * The rank needs the final top-1 id before pass 2: its score under each readout is one extra dot product,
 * taken with the same kernel so it has the same bits as the GEMM's. All sums are float64 over the f32 logits,
 * vectorized ({@link LensSums}).
 *
 * <p>Memory beyond the weights: the residual stack once (the blocks), the caller's residuals, and buffers of
 * one block by one vocabulary chunk (about 1 MB): for T = 512, 27 readouts of width 2304 and a 256k vocabulary,
 * about 130 MB for the blocks, whatever the vocabulary.
 *
 * <p>Padded vocabulary rows (an embedding larger than the tokenizer's vocabulary) are masked by never being
 * computed: the chunks stop at {@code scoredVocab}.
 */
public final class LogitLens {
    static final int BLOCK_ROWS = 64;
    static final int VOCAB_CHUNK = 4096;

    private final Transformer model;
    private final int scoredVocab;
    private final int blockRows;
    private final int vocabChunk;

    /** A lens over the model's whole vocabulary. */
    public LogitLens(Transformer model) { this(model, model.vocab()); }

    /** A lens scoring only ids below {@code scoredVocab} (the tokenizer's vocabulary; the rest is padding). */
    public LogitLens(Transformer model, int scoredVocab) { this(model, scoredVocab, BLOCK_ROWS, VOCAB_CHUNK); }

    /** With other block and chunk sizes: tests use small ones to exercise every boundary. */
    LogitLens(Transformer model, int scoredVocab, int blockRows, int vocabChunk) {
        if (blockRows < 1 || vocabChunk < 1) throw new IllegalArgumentException("block rows and vocabulary chunk must be >= 1");
        this.blockRows = blockRows;
        this.vocabChunk = vocabChunk;
        if (scoredVocab < 2 || scoredVocab > model.vocab()) {
            throw new IllegalArgumentException("scored vocabulary " + scoredVocab + " must be in 2.." + model.vocab());
        }
        this.model = model;
        this.scoredVocab = scoredVocab;
    }

    public int scoredVocab() { return scoredVocab; }

    /** Runs {@code tokens} through the model from an empty cache and measures readouts 0..L at every position. */
    public LensMetrics run(int[] tokens) {
        return run(tokens, new HookRegistry());
    }

    /** As {@link #run(int[])}, with {@code hooks} (e.g. edits, registered first so the lens reads the edited stream) firing too. */
    public LensMetrics run(int[] tokens, HookRegistry hooks) {
        ResidualCapture capture = ResidualCapture.attach(hooks, model.layers(), model.hidden(), 0, tokens.length);
        model.forward(tokens, model.newCache(), hooks, Transformer.Logits.NONE);
        return measure(capture.residuals(), tokens.length);
    }

    /** Metrics of a residual stack residuals[l] = [T, d], l = 0..R-1, against its last readout as the final one. */
    public LensMetrics measure(float[][] residuals, int T) {
        return measure(residuals, residuals[residuals.length - 1], T);
    }

    /**
     * Metrics of any residual tensors residuals[r] = [T, d] (r = 0..R-1) against the distribution that
     * {@code finalResidual} [T, d] reads out to. Returns [R][T] arrays.
     */
    public LensMetrics measure(float[][] residuals, float[] finalResidual, int T) {
        int d = model.hidden(), R = residuals.length;
        if (T < 1) throw new IllegalArgumentException("the lens needs at least one position");
        for (int r = 0; r < R; r++) checkLength("residual " + r, residuals[r], T * d);
        checkLength("final residual", finalResidual, T * d);

        // The final readout shares a row with the last residual when they are the same tensor.
        boolean finalIsLast = residuals[R - 1] == finalResidual;
        int rowsPerPosition = finalIsLast ? R : R + 1;
        int finalRow = finalIsLast ? R - 1 : R;
        float[] finalNormed = model.finalNorm().apply(finalResidual, T);
        FinalReadout fin = finalPass(finalNormed, T);

        // Raw rows copied position-major into blocks, then final-normed in place: one copy of the stack in all.
        int positionsPerBlock = Math.max(1, Math.round(blockRows / (float) rowsPerPosition));
        int blocks = (T + positionsPerBlock - 1) / positionsPerBlock;
        float[][] blockInputs = new float[blocks][];
        for (int b = 0; b < blocks; b++) {
            int t0 = b * positionsPerBlock, n = Math.min(positionsPerBlock, T - t0);
            float[] x = new float[n * rowsPerPosition * d];
            for (int p = 0; p < n; p++) {
                for (int r = 0; r < R; r++) System.arraycopy(residuals[r], (t0 + p) * d, x, (p * rowsPerPosition + r) * d, d);
                if (!finalIsLast) System.arraycopy(finalResidual, (t0 + p) * d, x, (p * rowsPerPosition + R) * d, d);
            }
            model.finalNorm().apply(x, x, n * rowsPerPosition);
            blockInputs[b] = x;
        }

        Accumulators acc = new Accumulators(R, T);
        thresholds(blockInputs, positionsPerBlock, rowsPerPosition, R, fin, acc);

        int chunk = Math.min(vocabChunk, scoredVocab);
        float[] logits = new float[positionsPerBlock * rowsPerPosition * chunk];
        double[] finalProbs = new double[positionsPerBlock * chunk];
        for (int v0 = 0; v0 < scoredVocab; v0 += vocabChunk) {
            int v1 = Math.min(scoredVocab, v0 + vocabChunk), vc = v1 - v0, first = v0;
            WeightMatrix w = unembeddingRows(v0, v1);
            for (int b = 0; b < blocks; b++) {
                int t0 = b * positionsPerBlock, n = Math.min(positionsPerBlock, T - t0);
                int rows = n * rowsPerPosition;
                MatMul.matmul(blockInputs[b], rows, w, logits);
                if (model.finalSoftcap() > 0) Activations.softcap(logits, 0, rows * vc, model.finalSoftcap());
                // p_f of this chunk once per position, then every readout row on its own.
                Parallel.forRange(n, p -> {
                    int fBase = (p * rowsPerPosition + finalRow) * vc;
                    double logZf = fin.logZ[t0 + p];
                    LensSums.expShifted(logits, fBase, vc, logZf, finalProbs, p * vc);
                });
                Parallel.forRange(n * R, i -> reduceRow(logits, finalProbs, vc, first, i / R, t0 + i / R, i % R,
                        rowsPerPosition, finalRow, fin, acc));
            }
        }
        return acc.finish(fin);
    }

    /** Pass 1: the final readout over the whole scored vocabulary, per position. */
    private FinalReadout finalPass(float[] finalNormed, int T) {
        int d = model.hidden();
        FinalReadout fin = new FinalReadout(T);
        int rowsPerBlock = Math.min(T, blockRows);
        float[] logits = new float[rowsPerBlock * Math.min(vocabChunk, scoredVocab)];
        for (int v0 = 0; v0 < scoredVocab; v0 += vocabChunk) {
            int v1 = Math.min(scoredVocab, v0 + vocabChunk), vc = v1 - v0, firstId = v0;
            WeightMatrix w = unembeddingRows(v0, v1);
            for (int t0 = 0; t0 < T; t0 += rowsPerBlock) {
                int n = Math.min(rowsPerBlock, T - t0), first = t0;
                float[] x = Arrays.copyOfRange(finalNormed, t0 * d, (t0 + n) * d);
                MatMul.matmul(x, n, w, logits);
                if (model.finalSoftcap() > 0) Activations.softcap(logits, 0, n * vc, model.finalSoftcap());
                Parallel.forRange(n, p -> fin.add(first + p, logits, p * vc, vc, firstId));
            }
        }
        fin.finish();
        return fin;
    }

    /** Each readout's score of the final top-1 id: one dot product per row, with the GEMM's own kernel. */
    private void thresholds(float[][] blockInputs, int positionsPerBlock, int rowsPerPosition, int R,
                            FinalReadout fin, Accumulators acc) {
        int d = model.hidden();
        float[] out = new float[rowsPerPosition];
        for (int b = 0; b < blockInputs.length; b++) {
            int n = blockInputs[b].length / (rowsPerPosition * d);
            for (int p = 0; p < n; p++) {
                int t = b * positionsPerBlock + p, id = fin.top1[t];
                float[] x = Arrays.copyOfRange(blockInputs[b], p * rowsPerPosition * d, (p + 1) * rowsPerPosition * d);
                MatMul.matmul(x, rowsPerPosition, unembeddingRows(id, id + 1), out);
                if (model.finalSoftcap() > 0) Activations.softcap(out, 0, rowsPerPosition, model.finalSoftcap());
                for (int r = 0; r < R; r++) acc.threshold[r * acc.T + t] = out[r];
            }
        }
    }

    /** Pass 2 for readout r at position t (row p of its block) over one vocabulary chunk of ids v0... */
    private static void reduceRow(float[] logits, double[] finalProbs, int vc, int v0, int p, int t, int r,
                                  int rowsPerPosition, int finalRow, FinalReadout fin, Accumulators acc) {
        int fBase = (p * rowsPerPosition + finalRow) * vc, pBase = p * vc;
        int zBase = (p * rowsPerPosition + r) * vc;
        int k = r * acc.T + t;
        float chunkMax = LensSums.max(logits, zBase, vc);
        if (chunkMax > acc.top1Value[k]) {
            int v = 0;
            while (logits[zBase + v] != chunkMax) v++;
            acc.top1Value[k] = chunkMax;
            acc.top1[k] = v0 + v;
        }
        double m = acc.max[k];
        if (chunkMax > m) {
            if (acc.sum[k] > 0) {
                // Rescale to the new max M: e -> e * exp(m - M), and sum e (z - m) gains (m - M) S.
                double scale = Math.exp(m - chunkMax);
                acc.sumZ[k] = (acc.sumZ[k] + (m - chunkMax) * acc.sum[k]) * scale;
                acc.sumDiff[k] *= scale;
                acc.sum[k] *= scale;
            }
            m = chunkMax;
            acc.max[k] = m;
        }
        float threshold = acc.threshold[k];
        double[] sums = new double[5];
        LensSums.rowSums(logits, zBase, fBase, vc, finalProbs, pBase, m, threshold, sums);
        acc.sum[k] += sums[0];
        acc.sumZ[k] += sums[1];
        acc.sumDiff[k] += sums[2];
        acc.reverse[k] += sums[3];
        // The final top-1 itself never counts: it cannot score strictly above its own score.
        int own = fin.top1[t] - v0;
        int ownAbove = own >= 0 && own < vc && logits[zBase + own] > threshold ? 1 : 0;
        acc.rank[k] += (int) sums[4] - ownAbove;
    }

    private WeightMatrix unembeddingRows(int r0, int r1) {
        WeightMatrix u = model.unembedding();
        long rowBytes = (long) u.cols() * u.dtype().bytes;
        return new WeightMatrix(u.data().asSlice(r0 * rowBytes, (r1 - r0) * rowBytes), u.dtype(), r1 - r0, u.cols());
    }

    private static void checkLength(String what, float[] x, long expected) {
        if (x == null || x.length != expected) {
            throw new IllegalArgumentException(what + " has " + (x == null ? 0 : x.length) + " floats, expected T * hidden = " + expected);
        }
    }

    /** Pass 1's running state and results for the final readout, per position. */
    static final class FinalReadout {
        final double[] max, sum, sumZ, logZ, entropy, top1Prob;
        final float[] top1Value, top2Value;
        final int[] top1;

        FinalReadout(int T) {
            max = new double[T]; sum = new double[T]; sumZ = new double[T];
            logZ = new double[T]; entropy = new double[T]; top1Prob = new double[T];
            top1Value = new float[T]; top2Value = new float[T]; top1 = new int[T];
            Arrays.fill(max, Double.NEGATIVE_INFINITY);
            Arrays.fill(top1Value, Float.NEGATIVE_INFINITY);
            Arrays.fill(top2Value, Float.NEGATIVE_INFINITY);
        }

        /** Folds logits[off .. off+vc) (ids v0..) into position t's running sums, top-1 and top-2. */
        void add(int t, float[] logits, int off, int vc, int v0) {
            float t1 = top1Value[t], t2 = top2Value[t];
            int id = top1[t];
            float chunkMax = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < vc; v++) {
                float z = logits[off + v];
                chunkMax = Math.max(chunkMax, z);
                if (z > t1) { t2 = t1; t1 = z; id = v0 + v; }
                else if (z > t2) t2 = z;
            }
            top1Value[t] = t1; top2Value[t] = t2; top1[t] = id;
            double m = max[t];
            if (chunkMax > m) {
                if (sum[t] > 0) {
                    double scale = Math.exp(m - chunkMax);
                    sumZ[t] = (sumZ[t] + (m - chunkMax) * sum[t]) * scale;
                    sum[t] *= scale;
                }
                m = chunkMax;
                max[t] = m;
            }
            double[] sums = new double[2];
            LensSums.expSums(logits, off, vc, m, sums);
            sum[t] += sums[0];
            sumZ[t] += sums[1];
        }

        void finish() {
            for (int t = 0; t < max.length; t++) {
                logZ[t] = max[t] + Math.log(sum[t]);
                entropy[t] = Math.log(sum[t]) - sumZ[t] / sum[t];
                top1Prob[t] = Math.exp(top1Value[t] - logZ[t]);
            }
        }
    }

    /** Pass 2's running sums for every (readout, position), flat at k = readout * T + position. */
    static final class Accumulators {
        final int R, T;
        final double[] max, sum, sumZ, sumDiff, reverse;
        final float[] top1Value, threshold;
        final int[] top1, rank;

        Accumulators(int R, int T) {
            this.R = R;
            this.T = T;
            int n = R * T;
            max = new double[n]; sum = new double[n]; sumZ = new double[n]; sumDiff = new double[n]; reverse = new double[n];
            top1Value = new float[n]; threshold = new float[n];
            top1 = new int[n]; rank = new int[n];
            Arrays.fill(max, Double.NEGATIVE_INFINITY);
            Arrays.fill(top1Value, Float.NEGATIVE_INFINITY);
        }

        LensMetrics finish(FinalReadout fin) {
            double[][] kl = new double[R][T], klRev = new double[R][T], entropy = new double[R][T];
            int[][] top = new int[R][T], rk = new int[R][T];
            for (int r = 0; r < R; r++) {
                for (int t = 0; t < T; t++) {
                    int k = r * T + t;
                    double logS = Math.log(sum[k]);
                    double logZ = max[k] + logS;
                    kl[r][t] = sumDiff[k] / sum[k] - logZ + fin.logZ[t];
                    klRev[r][t] = reverse[k] - fin.logZ[t] + logZ;
                    entropy[r][t] = logS - sumZ[k] / sum[k];
                    top[r][t] = top1[k];
                    rk[r][t] = rank[k];
                }
            }
            double[] margin = new double[T];
            for (int t = 0; t < T; t++) margin[t] = (double) fin.top1Value[t] - fin.top2Value[t];
            return new LensMetrics(kl, klRev, entropy, top, rk, fin.top1Prob.clone(), fin.entropy.clone(), margin);
        }
    }
}
