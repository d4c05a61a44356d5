package cgap.engine.runtime;

import cgap.engine.hooks.HookRegistry;
import cgap.kernels.Attention;
import cgap.kernels.MatMul;
import cgap.kernels.Rope;
import cgap.kernels.WeightMatrix;

/**
 * Multi-head attention with grouped key/value heads, the attention of Llama, Mistral, Qwen, OLMo 2 and Gemma.
 * Options cover the families' differences: q/k/v/o biases, q/k RMSNorm per head (Qwen3, Gemma 3) or over the
 * whole projection (OLMo 2), the score scale, a score soft-cap (Gemma 2) and a sliding window.
 */
public record GroupedQueryAttention(
        WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
        float[] qBias, float[] kBias, float[] vBias, float[] oBias,
        Norm qNorm, Norm kNorm, boolean qkNormPerHead,
        int heads, int kvHeads, int headDim,
        RopeTable rope, float scale, float softcap, int window) implements AttentionLayer {

    @Override
    public void forward(float[] h, int T, int pos0, int layer, KvCache cache, HookRegistry hooks, float[] out) {
        float[] q = new float[T * wq.rows()], k = new float[T * wk.rows()], v = new float[T * wv.rows()];
        MatMul.matmulEach(h, T, new WeightMatrix[] {wq, wk, wv}, new float[][] {q, k, v});
        if (qBias != null) addBias(q, T, qBias);
        if (kBias != null) addBias(k, T, kBias);
        if (vBias != null) addBias(v, T, vBias);
        if (qNorm != null) {
            qNorm.apply(q, q, qkNormPerHead ? T * heads : T);
            kNorm.apply(k, k, qkNormPerHead ? T * kvHeads : T);
        }
        float[][] cosSin = rope.cosSin(pos0, T);
        Rope.rotateHalf(q, T, heads, headDim, 0, rope.rotaryDim(), cosSin[0], cosSin[1]);
        Rope.rotateHalf(k, T, kvHeads, headDim, 0, rope.rotaryDim(), cosSin[0], cosSin[1]);
        cache.store(layer, pos0, T, k, v);

        float[] mixed = new float[T * heads * headDim];
        Attention.attend(q, T, pos0, heads, kvHeads, headDim, headDim,
                cache.keys(layer), cache.values(layer), scale, softcap, window, mixed);
        MatMul.matmul(mixed, T, wo, out);
        if (oBias != null) addBias(out, T, oBias);
    }

    @Override public int cachedKeyWidth() { return kvHeads * headDim; }

    @Override public int cachedValueWidth() { return kvHeads * headDim; }

    static float[] project(float[] x, int T, WeightMatrix w, float[] bias) {
        float[] y = new float[T * w.rows()];
        MatMul.matmul(x, T, w, y);
        if (bias != null) addBias(y, T, bias);
        return y;
    }

    static void addBias(float[] y, int T, float[] bias) {
        for (int t = 0; t < T; t++) {
            int base = t * bias.length;
            for (int i = 0; i < bias.length; i++) y[base + i] += bias[i];
        }
    }
}
