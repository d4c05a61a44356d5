package cgap.gap.lens;

import cgap.engine.runtime.Transformer;
import cgap.kernels.Activations;
import cgap.kernels.MatMul;
import cgap.kernels.Parallel;

/**
 * Whole readout distributions of a few residual rows, held in full: n rows x the scored vocabulary. This is
 * the lens of one token step (n = L + 1 rows at one position, a few MB even for a 256k vocabulary), where
 * metrics that need two normalized distributions at once (adjacent-layer JS, the same-history JS between two
 * models) are computed exactly. It is also the plain reference the fused {@link LogitLens} is tested against.
 *
 * <p>Each row's log-partition is a two-pass log-sum-exp in float64 (max, then sum of exp); every metric sums
 * in float64 over the f32 logits. Padded ids at and above {@code scoredVocab} are dropped (masked to -inf).
 */
public final class Readouts {
    private final int rows;
    private final int vocab;
    private final float[] logits;
    private final double[] logZ;
    private final double[] probs;

    private Readouts(int rows, int vocab, float[] logits) {
        this.rows = rows;
        this.vocab = vocab;
        this.logits = logits;
        this.logZ = new double[rows];
        this.probs = new double[rows * vocab];
        Parallel.forRange(rows, r -> {
            int base = r * vocab;
            float max = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[base + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.exp((double) logits[base + v] - max);
            double lz = max + Math.log(sum);
            logZ[r] = lz;
            for (int v = 0; v < vocab; v++) probs[base + v] = Math.exp(logits[base + v] - lz);
        });
    }

    /** The readouts (final norm, unembedding, final soft-cap) of residual rows [n, d], ids below scoredVocab. */
    public static Readouts of(Transformer model, int scoredVocab, float[] residualRows, int n) {
        int V = model.vocab();
        if (scoredVocab < 2 || scoredVocab > V) throw new IllegalArgumentException("scored vocabulary " + scoredVocab + " must be in 2.." + V);
        if (residualRows.length != n * model.hidden()) {
            throw new IllegalArgumentException("residual rows have " + residualRows.length + " floats, expected " + n + " x " + model.hidden());
        }
        float[] full = new float[n * V];
        MatMul.matmul(model.finalNorm().apply(residualRows, n), n, model.unembedding(), full);
        if (model.finalSoftcap() > 0) Activations.softcap(full, 0, full.length, model.finalSoftcap());
        if (scoredVocab == V) return new Readouts(n, V, full);
        float[] scored = new float[n * scoredVocab];
        for (int r = 0; r < n; r++) System.arraycopy(full, r * V, scored, r * scoredVocab, scoredVocab);
        return new Readouts(n, scoredVocab, scored);
    }

    /** Readouts of logits already computed, [n, vocab] (tests, and callers with their own logits). */
    public static Readouts ofLogits(float[] logits, int n, int vocab) {
        if (logits.length != n * vocab) throw new IllegalArgumentException("logits have " + logits.length + " floats, expected " + n + " x " + vocab);
        return new Readouts(n, vocab, logits.clone());
    }

    public int rows() { return rows; }

    public int vocab() { return vocab; }

    public float logit(int row, int id) { return logits[row * vocab + id]; }

    public double logZ(int row) { return logZ[row]; }

    /** log p_row(id). */
    public double logProb(int row, int id) { return logits[row * vocab + id] - logZ[row]; }

    /** KL(p_a || p_b) in nats. */
    public double kl(int a, int b) {
        double sum = 0;
        int ba = a * vocab, bb = b * vocab;
        for (int v = 0; v < vocab; v++) {
            double p = probs[ba + v];
            if (p > 0) sum += p * (((double) logits[ba + v] - logZ[a]) - ((double) logits[bb + v] - logZ[b]));
        }
        return sum;
    }

    /** H(p_a) in nats. */
    public double entropy(int a) {
        double sum = 0;
        int ba = a * vocab;
        for (int v = 0; v < vocab; v++) {
            double p = probs[ba + v];
            if (p > 0) sum -= p * ((double) logits[ba + v] - logZ[a]);
        }
        return sum;
    }

    /** argmax of row a, ties to the lowest id. */
    public int top1(int a) {
        int ba = a * vocab, best = 0;
        for (int v = 1; v < vocab; v++) if (logits[ba + v] > logits[ba + best]) best = v;
        return best;
    }

    /** Largest logit minus the second largest (0 when the top is tied). */
    public double margin(int a) {
        int ba = a * vocab;
        float first = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            float z = logits[ba + v];
            if (z > first) { second = first; first = z; }
            else if (z > second) second = z;
        }
        return (double) first - second;
    }

    /** How many ids score strictly higher than {@code id} under row a. */
    public int rank(int a, int id) {
        int ba = a * vocab, above = 0;
        float score = logits[ba + id];
        for (int v = 0; v < vocab; v++) if (logits[ba + v] > score) above++;
        return above;
    }

    /**
     * Jensen-Shannon divergence in nats between row a of this and row b of {@code other} (which may be this):
     * (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2. Both must cover the same ids.
     */
    public double js(int a, Readouts other, int b) {
        if (other.vocab != vocab) throw new IllegalArgumentException("JS of readouts over " + vocab + " and " + other.vocab + " ids");
        double sum = 0;
        int ba = a * vocab, bb = b * vocab;
        for (int v = 0; v < vocab; v++) {
            double p = probs[ba + v], q = other.probs[bb + v];
            double m = 0.5 * (p + q);
            if (m == 0) continue;
            double logM = Math.log(m);
            if (p > 0) sum += p * (((double) logits[ba + v] - logZ[a]) - logM);
            if (q > 0) sum += q * (((double) other.logits[bb + v] - other.logZ[b]) - logM);
        }
        return 0.5 * sum;
    }
}
