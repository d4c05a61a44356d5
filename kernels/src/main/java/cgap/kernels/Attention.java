package cgap.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import static cgap.kernels.Vec.F;
import static cgap.kernels.Vec.L;

/**
 * Causal attention for T new queries at absolute positions pos0..pos0+T-1 over keys 0..pos0+T-1 of the cache.
 * <pre>
 * q: [T, nHeads*qkDim]   kCache: [>= pos0+T, nKvHeads*qkDim]   vCache: [>= pos0+T, nKvHeads*vDim]
 * out: [T, nHeads*vDim]; query head h reads kv head h / (nHeads/nKvHeads) (GQA).
 * score = (q . k) * scale; if softcap > 0: score = tanh(score/softcap)*softcap (before masking);
 * key j is visible to the query at position p when j <= p and (window <= 0 || p - j < window);
 * softmax over the visible keys as {@link Softmax#inPlace} computes it; out = sum_j p_j v_j.
 * </pre>
 * qkDim and vDim may differ (MLA).
 *
 * <p>How: the queries that share a kv head (its GQA group, for a block of tokens) go into the lanes of a
 * vector, so both products become broadcast-FMA loops with no horizontal sums: scores[j][queries] +=
 * qT[d][queries] * k[j][d] over d, then outT[d][queries] += p[j][queries] * v[j][d] over j. With fewer queries
 * than lanes (decode: one token's GQA group) the second product puts output elements in the lanes instead,
 * out[i][d..] += p[j][i] * v[j][d..], so that no lane idles. Work is split over (kv head, token block) pairs.
 *
 * <p>Order (fixed): each q.k is an FMA chain over d = 0..qkDim-1; each output element an FMA chain over
 * the keys in increasing j, where keys a query does not see contribute an exact zero. A query's result
 * therefore does not depend on T or on which other queries share its call: prefill and token-by-token
 * decode give the same bits.
 */
public final class Attention {
    private Attention() {}

    /**
     * Per-thread scratch, grown on demand: transposed queries, scores (then probabilities), transposed output,
     * and each query lane's first and last visible key.
     */
    private static final class Scratch {
        float[] queries = new float[0];
        float[] scores = new float[0];
        float[] output = new float[0];
        int[] firstSeen = new int[0];
        int[] lastSeen = new int[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    public static void attend(float[] q, int T, int pos0, int nHeads, int nKvHeads, int qkDim, int vDim,
                              float[] kCache, float[] vCache, float scale, float softcap, int window, float[] out) {
        check(q, T, pos0, nHeads, nKvHeads, qkDim, vDim, kCache, vCache, out);
        int group = nHeads / nKvHeads;
        // About two vectors of queries per task: enough lanes to fill, few enough tasks' keys wasted on the causal edge.
        int tokensPerTask = Math.max(1, 2 * L / group);
        int tokenBlocks = (T + tokensPerTask - 1) / tokensPerTask;
        Parallel.forRange(tokenBlocks * nKvHeads, task -> {
            int kv = task % nKvHeads, t0 = (task / nKvHeads) * tokensPerTask;
            attendBlock(q, t0, Math.min(T, t0 + tokensPerTask), pos0, nHeads, nKvHeads, kv, qkDim, vDim,
                    kCache, vCache, scale, softcap, window, out);
        });
    }

    /** Tokens [t0, t1) for the query heads of kv head kv. Query lane i is token t0 + i/group, head kv*group + i%group. */
    private static void attendBlock(float[] q, int t0, int t1, int pos0, int nHeads, int nKvHeads, int kv, int qkDim, int vDim,
                                    float[] kCache, float[] vCache, float scale, float softcap, int window, float[] out) {
        int group = nHeads / nKvHeads;
        int queries = (t1 - t0) * group;
        int lanes = (queries + L - 1) / L * L;
        int keyStart = window > 0 ? Math.max(0, pos0 + t0 - window + 1) : 0;
        int keyEnd = pos0 + t1;
        int keys = keyEnd - keyStart;
        Scratch scratch = SCRATCH.get();
        if (scratch.queries.length < qkDim * lanes) scratch.queries = new float[qkDim * lanes];
        if (scratch.scores.length < keys * lanes) scratch.scores = new float[keys * lanes];
        if (scratch.output.length < vDim * lanes) scratch.output = new float[vDim * lanes];
        if (scratch.firstSeen.length < lanes) {
            scratch.firstSeen = new int[lanes];
            scratch.lastSeen = new int[lanes];
        }
        float[] qT = scratch.queries, scores = scratch.scores, outT = scratch.output;
        int[] firstSeen = scratch.firstSeen, lastSeen = scratch.lastSeen;

        // qT[d*lanes + i] = q of query i; padding lanes are zero.
        java.util.Arrays.fill(qT, 0, qkDim * lanes, 0f);
        for (int i = 0; i < queries; i++) {
            int src = ((t0 + i / group) * nHeads + kv * group + i % group) * qkDim;
            for (int d = 0; d < qkDim; d++) qT[d * lanes + i] = q[src + d];
        }

        // scores[(j-keyStart)*lanes + i] = q_i . k_j
        int kStride = nKvHeads * qkDim;
        for (int v = 0; v < lanes; v += L) {
            int j = keyStart;
            for (; j + 8 <= keyEnd; j += 8) scores8(qT, lanes, v, kCache, (j * nKvHeads + kv) * qkDim, kStride, qkDim, scores, (j - keyStart) * lanes + v);
            for (; j + 4 <= keyEnd; j += 4) scores4(qT, lanes, v, kCache, (j * nKvHeads + kv) * qkDim, kStride, qkDim, scores, (j - keyStart) * lanes + v);
            for (; j < keyEnd; j++) scores1(qT, lanes, v, kCache, (j * nKvHeads + kv) * qkDim, qkDim, scores, (j - keyStart) * lanes + v);
        }

        // Softmax per query over the keys it sees, as Softmax.inPlace computes it, one vector of queries at a
        // time: scale (and soft-cap), hide unseen keys as -inf, subtract the max, Vec.exp, sum in double in key
        // order, multiply by the f32 reciprocal. Unseen keys and padding lanes end as exact zeros.
        for (int i = 0; i < lanes; i++) {
            if (i < queries) {
                int p = pos0 + t0 + i / group;
                lastSeen[i] = p;
                firstSeen[i] = window > 0 ? Math.max(0, p - window + 1) : 0;
            } else {
                lastSeen[i] = -1; // sees nothing
                firstSeen[i] = 0;
            }
        }
        FloatVector negativeInfinity = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int v = 0; v < lanes; v += L) {
            IntVector first = IntVector.fromArray(Vec.I, firstSeen, v), last = IntVector.fromArray(Vec.I, lastSeen, v);
            FloatVector max = negativeInfinity;
            for (int j = keyStart; j < keyEnd; j++) {
                int at = (j - keyStart) * lanes + v;
                FloatVector score = FloatVector.fromArray(F, scores, at).mul(scale);
                if (softcap > 0) score = softcap(score, softcap);
                VectorMask<Float> seen = first.compare(VectorOperators.LE, j).and(last.compare(VectorOperators.GE, j)).cast(F);
                score = negativeInfinity.blend(score, seen);
                score.intoArray(scores, at);
                max = max.max(score);
            }
            max = max.blend(0f, max.eq(Float.NEGATIVE_INFINITY)); // padding lanes
            DoubleVector sumLow = DoubleVector.zero(Vec.D), sumHigh = sumLow;
            for (int j = keyStart; j < keyEnd; j++) {
                int at = (j - keyStart) * lanes + v;
                FloatVector e = Vec.exp(FloatVector.fromArray(F, scores, at).sub(max));
                e.intoArray(scores, at);
                sumLow = sumLow.add(e.convertShape(VectorOperators.F2D, Vec.D, 0));
                sumHigh = sumHigh.add(e.convertShape(VectorOperators.F2D, Vec.D, 1));
            }
            float[] inverse = new float[L];
            double[] sums = new double[L];
            sumLow.intoArray(sums, 0);
            sumHigh.intoArray(sums, L / 2);
            for (int i = 0; i < L; i++) inverse[i] = sums[i] > 0 ? (float) (1.0 / sums[i]) : 0f;
            FloatVector inverseVector = FloatVector.fromArray(F, inverse, 0);
            for (int j = keyStart; j < keyEnd; j++) {
                int at = (j - keyStart) * lanes + v;
                FloatVector.fromArray(F, scores, at).mul(inverseVector).intoArray(scores, at);
            }
        }

        // out of query i, element d = sum_j p_ij v_j[d]
        int vStride = nKvHeads * vDim;
        int vBase = (keyStart * nKvHeads + kv) * vDim;
        if (queries < L) {
            // Fewer queries than lanes (decode): the lanes run over output elements instead, so none is wasted.
            // Each element is still one FMA chain over the keys in increasing j: the same bits as below.
            for (int i = 0; i < queries; i++) {
                int dst = ((t0 + i / group) * nHeads + kv * group + i % group) * vDim;
                weightedRow(scores, lanes, i, keys, vCache, vBase, vStride, vDim, out, dst);
            }
            return;
        }
        for (int v = 0; v < lanes; v += L) {
            int d = 0;
            for (; d + 4 <= vDim; d += 4) weightedSum4(scores, lanes, v, keys, vCache, vBase + d, vStride, outT, d * lanes + v);
            for (; d < vDim; d++) weightedSum1(scores, lanes, v, keys, vCache, vBase + d, vStride, outT, d * lanes + v);
        }
        for (int i = 0; i < queries; i++) {
            int dst = ((t0 + i / group) * nHeads + kv * group + i % group) * vDim;
            for (int d = 0; d < vDim; d++) out[dst + d] = outT[d * lanes + i];
        }
    }

    /** tanh(score / cap) * cap per lane with scalar Math.tanh, as the reference and torch compute it. */
    private static FloatVector softcap(FloatVector score, float cap) {
        float[] lanes = score.toArray();
        for (int i = 0; i < lanes.length; i++) lanes[i] = (float) Math.tanh(lanes[i] / cap) * cap;
        return FloatVector.fromArray(F, lanes, 0);
    }

    /** Scores of four consecutive keys (rows k0, k0+kStride, ...) for the L queries at lane offset v. */
    private static void scores4(float[] qT, int lanes, int v, float[] k, int k0, int kStride, int dim, float[] scores, int s) {
        int k1 = k0 + kStride, k2 = k1 + kStride, k3 = k2 + kStride;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < dim; d++) {
            FloatVector qv = FloatVector.fromArray(F, qT, d * lanes + v);
            a0 = qv.fma(FloatVector.broadcast(F, k[k0 + d]), a0);
            a1 = qv.fma(FloatVector.broadcast(F, k[k1 + d]), a1);
            a2 = qv.fma(FloatVector.broadcast(F, k[k2 + d]), a2);
            a3 = qv.fma(FloatVector.broadcast(F, k[k3 + d]), a3);
        }
        a0.intoArray(scores, s);
        a1.intoArray(scores, s + lanes);
        a2.intoArray(scores, s + 2 * lanes);
        a3.intoArray(scores, s + 3 * lanes);
    }

    /** As {@link #scores4} for eight keys: eight FMA chains, enough to keep both FMA units busy. */
    private static void scores8(float[] qT, int lanes, int v, float[] k, int k0, int kStride, int dim, float[] scores, int s) {
        int k1 = k0 + kStride, k2 = k1 + kStride, k3 = k2 + kStride, k4 = k3 + kStride, k5 = k4 + kStride, k6 = k5 + kStride, k7 = k6 + kStride;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int d = 0; d < dim; d++) {
            FloatVector qv = FloatVector.fromArray(F, qT, d * lanes + v);
            a0 = qv.fma(FloatVector.broadcast(F, k[k0 + d]), a0);
            a1 = qv.fma(FloatVector.broadcast(F, k[k1 + d]), a1);
            a2 = qv.fma(FloatVector.broadcast(F, k[k2 + d]), a2);
            a3 = qv.fma(FloatVector.broadcast(F, k[k3 + d]), a3);
            a4 = qv.fma(FloatVector.broadcast(F, k[k4 + d]), a4);
            a5 = qv.fma(FloatVector.broadcast(F, k[k5 + d]), a5);
            a6 = qv.fma(FloatVector.broadcast(F, k[k6 + d]), a6);
            a7 = qv.fma(FloatVector.broadcast(F, k[k7 + d]), a7);
        }
        a0.intoArray(scores, s);
        a1.intoArray(scores, s + lanes);
        a2.intoArray(scores, s + 2 * lanes);
        a3.intoArray(scores, s + 3 * lanes);
        a4.intoArray(scores, s + 4 * lanes);
        a5.intoArray(scores, s + 5 * lanes);
        a6.intoArray(scores, s + 6 * lanes);
        a7.intoArray(scores, s + 7 * lanes);
    }

    private static void scores1(float[] qT, int lanes, int v, float[] k, int k0, int dim, float[] scores, int s) {
        FloatVector a0 = FloatVector.zero(F);
        for (int d = 0; d < dim; d++) a0 = FloatVector.fromArray(F, qT, d * lanes + v).fma(FloatVector.broadcast(F, k[k0 + d]), a0);
        a0.intoArray(scores, s);
    }

    /** Output dims d..d+3 (value elements at v0, v0+1, ... of key row 0, rows vStride apart) for the L queries at v. */
    private static void weightedSum4(float[] probabilities, int lanes, int v, int keys, float[] values, int v0, int vStride, float[] outT, int o) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int j = 0; j < keys; j++) {
            FloatVector pv = FloatVector.fromArray(F, probabilities, j * lanes + v);
            int row = v0 + j * vStride;
            a0 = pv.fma(FloatVector.broadcast(F, values[row]), a0);
            a1 = pv.fma(FloatVector.broadcast(F, values[row + 1]), a1);
            a2 = pv.fma(FloatVector.broadcast(F, values[row + 2]), a2);
            a3 = pv.fma(FloatVector.broadcast(F, values[row + 3]), a3);
        }
        a0.intoArray(outT, o);
        a1.intoArray(outT, o + lanes);
        a2.intoArray(outT, o + 2 * lanes);
        a3.intoArray(outT, o + 3 * lanes);
    }

    private static void weightedSum1(float[] probabilities, int lanes, int v, int keys, float[] values, int v0, int vStride, float[] outT, int o) {
        FloatVector a0 = FloatVector.zero(F);
        for (int j = 0; j < keys; j++) {
            a0 = FloatVector.fromArray(F, probabilities, j * lanes + v).fma(FloatVector.broadcast(F, values[v0 + j * vStride]), a0);
        }
        a0.intoArray(outT, o);
    }

    /**
     * out[o + d] = sum_j p[j*lanes + i] * values[v0 + j*vStride + d] for d < vDim, keys in increasing j: query i's
     * output with the output elements in the lanes, four vectors (four FMA chains) at a time.
     */
    private static void weightedRow(float[] probabilities, int lanes, int i, int keys, float[] values, int v0, int vStride,
                                    int vDim, float[] out, int o) {
        int d = 0;
        for (; d + 4 * L <= vDim; d += 4 * L) {
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            for (int j = 0; j < keys; j++) {
                FloatVector p = FloatVector.broadcast(F, probabilities[j * lanes + i]);
                int row = v0 + j * vStride + d;
                a0 = p.fma(FloatVector.fromArray(F, values, row), a0);
                a1 = p.fma(FloatVector.fromArray(F, values, row + L), a1);
                a2 = p.fma(FloatVector.fromArray(F, values, row + 2 * L), a2);
                a3 = p.fma(FloatVector.fromArray(F, values, row + 3 * L), a3);
            }
            a0.intoArray(out, o + d);
            a1.intoArray(out, o + d + L);
            a2.intoArray(out, o + d + 2 * L);
            a3.intoArray(out, o + d + 3 * L);
        }
        for (; d + L <= vDim; d += L) {
            FloatVector a0 = FloatVector.zero(F);
            for (int j = 0; j < keys; j++) {
                a0 = FloatVector.broadcast(F, probabilities[j * lanes + i]).fma(FloatVector.fromArray(F, values, v0 + j * vStride + d), a0);
            }
            a0.intoArray(out, o + d);
        }
        for (; d < vDim; d++) {
            float acc = 0f;
            for (int j = 0; j < keys; j++) acc = Math.fma(probabilities[j * lanes + i], values[v0 + j * vStride + d], acc);
            out[o + d] = acc;
        }
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
