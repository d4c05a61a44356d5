package cgap.kernels;

import jdk.incubator.vector.FloatVector;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * Causal attention for T new queries at absolute positions pos0..pos0+T-1 over keys 0..pos0+T-1 of the cache.
 * <pre>
 * q: [T, nHeads*qkDim]   kCache: [>= pos0+T, nKvHeads*qkDim]   vCache: [>= pos0+T, nKvHeads*vDim]
 * out: [T, nHeads*vDim]; query head h reads kv head h / (nHeads/nKvHeads) (GQA).
 * score = (q . k) * scale; if softcap > 0: score = tanh(score/softcap)*softcap (before masking);
 * key j is visible to the query at position p when j <= p and (window <= 0 || p - j < window);
 * softmax (see {@link Softmax}) over the visible keys; out = sum_j p_j v_j.
 * </pre>
 * qkDim and vDim may differ (MLA). Work is split over (t, h) pairs. Each q.k is a vector dot product
 * summed in a fixed order (lanes, then {@link Vec#sumLanes}, then the tail); each output element sums
 * p_j v_j over j in increasing order with FMA.
 */
public final class Attention {
    private Attention() {}

    public static void attend(float[] q, int T, int pos0, int nHeads, int nKvHeads, int qkDim, int vDim,
                              float[] kCache, float[] vCache, float scale, float softcap, int window, float[] out) {
        check(q, T, pos0, nHeads, nKvHeads, qkDim, vDim, kCache, vCache, out);
        int group = nHeads / nKvHeads;
        Parallel.forRange(T * nHeads, task -> {
            int t = task / nHeads, h = task % nHeads, kv = h / group;
            int p = pos0 + t;
            int first = window > 0 ? Math.max(0, p - window + 1) : 0;
            int visible = p - first + 1;
            float[] scores = new float[visible];
            int qOffset = (t * nHeads + h) * qkDim;
            for (int j = first; j <= p; j++) {
                float score = dot(q, qOffset, kCache, (j * nKvHeads + kv) * qkDim, qkDim) * scale;
                if (softcap > 0) score = (float) Math.tanh(score / softcap) * softcap;
                scores[j - first] = score;
            }
            Softmax.inPlace(scores, 0, visible);
            int o = (t * nHeads + h) * vDim;
            java.util.Arrays.fill(out, o, o + vDim, 0f);
            int upper = F.loopBound(vDim);
            for (int j = first; j <= p; j++) {
                float weight = scores[j - first];
                FloatVector weights = FloatVector.broadcast(F, weight);
                int v = (j * nKvHeads + kv) * vDim;
                int d = 0;
                for (; d < upper; d += L) {
                    FloatVector.fromArray(F, vCache, v + d).fma(weights, FloatVector.fromArray(F, out, o + d)).intoArray(out, o + d);
                }
                for (; d < vDim; d++) out[o + d] = Math.fma(vCache[v + d], weight, out[o + d]);
            }
        });
    }

    /** Plain scalar reference, single-threaded. */
    public static void attendReference(float[] q, int T, int pos0, int nHeads, int nKvHeads, int qkDim, int vDim,
                                       float[] kCache, float[] vCache, float scale, float softcap, int window, float[] out) {
        check(q, T, pos0, nHeads, nKvHeads, qkDim, vDim, kCache, vCache, out);
        int group = nHeads / nKvHeads;
        for (int t = 0; t < T; t++) {
            int p = pos0 + t;
            for (int h = 0; h < nHeads; h++) {
                int kv = h / group;
                float[] scores = new float[p + 1];
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j <= p; j++) {
                    if (window > 0 && p - j >= window) continue;
                    float dot = 0f;
                    for (int d = 0; d < qkDim; d++) dot += q[(t * nHeads + h) * qkDim + d] * kCache[(j * nKvHeads + kv) * qkDim + d];
                    float score = dot * scale;
                    if (softcap > 0) score = (float) Math.tanh(score / softcap) * softcap;
                    scores[j] = score;
                    max = Math.max(max, score);
                }
                double sum = 0;
                for (int j = 0; j <= p; j++) {
                    if (window > 0 && p - j >= window) continue;
                    scores[j] = (float) Math.exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int d = 0; d < vDim; d++) {
                    float acc = 0f;
                    for (int j = 0; j <= p; j++) {
                        if (window > 0 && p - j >= window) continue;
                        acc += (float) (scores[j] / sum) * vCache[(j * nKvHeads + kv) * vDim + d];
                    }
                    out[(t * nHeads + h) * vDim + d] = acc;
                }
            }
        }
    }

    private static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int upper = F.loopBound(n);
        FloatVector acc = FloatVector.zero(F);
        for (int i = 0; i < upper; i += L) {
            acc = FloatVector.fromArray(F, a, aOffset + i).fma(FloatVector.fromArray(F, b, bOffset + i), acc);
        }
        float sum = Vec.sumLanes(acc);
        for (int i = upper; i < n; i++) sum = Math.fma(a[aOffset + i], b[bOffset + i], sum);
        return sum;
    }

    private static void check(float[] q, int T, int pos0, int nHeads, int nKvHeads, int qkDim, int vDim,
                              float[] kCache, float[] vCache, float[] out) {
        if (T < 0 || pos0 < 0 || nHeads <= 0 || nKvHeads <= 0 || qkDim <= 0 || vDim <= 0 || nHeads % nKvHeads != 0) {
            throw new IllegalArgumentException("Attention: bad shape T=" + T + " pos0=" + pos0 + " nHeads=" + nHeads
                    + " nKvHeads=" + nKvHeads + " qkDim=" + qkDim + " vDim=" + vDim + " (nHeads must be a multiple of nKvHeads)");
        }
        int keys = pos0 + T;
        if ((long) T * nHeads * qkDim > q.length) throw new IllegalArgumentException("Attention: q has " + q.length + " floats, need " + (long) T * nHeads * qkDim);
        if ((long) keys * nKvHeads * qkDim > kCache.length) throw new IllegalArgumentException("Attention: kCache has " + kCache.length + " floats, need " + (long) keys * nKvHeads * qkDim);
        if ((long) keys * nKvHeads * vDim > vCache.length) throw new IllegalArgumentException("Attention: vCache has " + vCache.length + " floats, need " + (long) keys * nKvHeads * vDim);
        if ((long) T * nHeads * vDim > out.length) throw new IllegalArgumentException("Attention: out has " + out.length + " floats, need " + (long) T * nHeads * vDim);
    }
}
