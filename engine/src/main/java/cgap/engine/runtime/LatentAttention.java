package cgap.engine.runtime;

import cgap.engine.hooks.HookRegistry;
import cgap.kernels.Attention;
import cgap.kernels.MatMul;
import cgap.kernels.Rope;
import cgap.kernels.WeightMatrix;

/**
 * DeepSeek-V2's multi-head latent attention (MLA), as transformers computes it.
 * <pre>
 *   q            = q_b(qNorm(q_a(h)))  or  q_proj(h)               [T, heads, nope | rope]
 *   [c | kRope]  = kv_a_proj_with_mqa(h)                            c: latent [kvLoraRank], kRope: one head [rope]
 *   [kNope | v]  = kv_b(kvNorm(c))                                  per head [nope | vDim]
 *   RoPE, interleaved pairs, on q's rope part and on kRope (shared by every head)
 *   k            = [kNope | kRope] per head;  out = o_proj(attention(q, k, v))
 * </pre>
 * The cache holds the expanded per-head keys [heads * (nope + rope)] and values [heads * vDim]: more memory
 * than the latent, but decode then reuses the plain attention kernel and sums exactly as the prefill does.
 *
 * @param qA        q_a_proj [qLoraRank, d], or null when q comes straight from {@code qProj} (V2-Lite)
 * @param qNorm     q_a_layernorm (eps 1e-6), null with qA
 * @param qB        q_proj [heads*(nope+rope), d] or q_b_proj [heads*(nope+rope), qLoraRank]
 * @param qABias    bias of q_a_proj (attention_bias), may be null
 * @param kvA       kv_a_proj_with_mqa [kvLoraRank + rope, d]
 * @param kvABias   its bias (attention_bias), may be null
 * @param kvNorm    kv_a_layernorm over the latent (eps 1e-6)
 * @param kvB       kv_b_proj [heads*(nope+vDim), kvLoraRank]
 * @param wo        o_proj [d, heads*vDim]
 * @param oBias     its bias (attention_bias), may be null
 * @param scale     softmax scale: (nope+rope)^-0.5, times mscale^2 under YaRN
 */
public record LatentAttention(
        WeightMatrix qA, float[] qABias, Norm qNorm, WeightMatrix qB,
        WeightMatrix kvA, float[] kvABias, Norm kvNorm, WeightMatrix kvB,
        WeightMatrix wo, float[] oBias,
        int heads, int kvLoraRank, int nopeDim, int ropeDim, int valueDim,
        RopeTable rope, float scale) implements AttentionLayer {

    public LatentAttention {
        if (rope.rotaryDim() != ropeDim || !rope.interleaved()) {
            throw new IllegalArgumentException("LatentAttention needs interleaved RoPE over the " + ropeDim
                    + " rope dims, got " + rope.rotaryDim() + (rope.interleaved() ? "" : " rotate-half"));
        }
    }

    public int qkDim() { return nopeDim + ropeDim; }

    @Override
    public void forward(float[] h, int T, int pos0, int layer, KvCache cache, HookRegistry hooks, float[] out) {
        int qk = qkDim();
        float[] q;
        if (qA == null) {
            q = GroupedQueryAttention.project(h, T, qB, null);
        } else {
            float[] qLatent = GroupedQueryAttention.project(h, T, qA, qABias);
            qNorm.apply(qLatent, qLatent, T);
            q = GroupedQueryAttention.project(qLatent, T, qB, null);
        }

        // [latent | kRope] per position; the latent is normalized on its own, kRope is rotated in place.
        int kvAWidth = kvLoraRank + ropeDim;
        float[] compressed = GroupedQueryAttention.project(h, T, kvA, kvABias);
        float[] latent = new float[T * kvLoraRank];
        for (int t = 0; t < T; t++) System.arraycopy(compressed, t * kvAWidth, latent, t * kvLoraRank, kvLoraRank);
        kvNorm.apply(latent, latent, T);

        float[][] cosSin = rope.cosSin(pos0, T);
        Rope.interleaved(q, T, heads, qk, nopeDim, ropeDim, cosSin[0], cosSin[1]);
        Rope.interleaved(compressed, T, 1, kvAWidth, kvLoraRank, ropeDim, cosSin[0], cosSin[1]);

        int kvBWidth = nopeDim + valueDim;
        float[] kvNopeV = new float[T * heads * kvBWidth];
        MatMul.matmul(latent, T, kvB, kvNopeV);
        float[] k = new float[T * heads * qk];
        float[] v = new float[T * heads * valueDim];
        for (int t = 0; t < T; t++) {
            int kRope = t * kvAWidth + kvLoraRank;
            for (int hd = 0; hd < heads; hd++) {
                int src = (t * heads + hd) * kvBWidth;
                int kDst = (t * heads + hd) * qk;
                System.arraycopy(kvNopeV, src, k, kDst, nopeDim);
                System.arraycopy(compressed, kRope, k, kDst + nopeDim, ropeDim);
                System.arraycopy(kvNopeV, src + nopeDim, v, (t * heads + hd) * valueDim, valueDim);
            }
        }
        cache.store(layer, pos0, T, k, v);

        float[] mixed = new float[T * heads * valueDim];
        Attention.attend(q, T, pos0, heads, heads, qk, valueDim, cache.keys(layer), cache.values(layer),
                scale, 0f, 0, mixed);
        MatMul.matmul(mixed, T, wo, out);
        if (oBias != null) GroupedQueryAttention.addBias(out, T, oBias);
    }

    @Override public int cachedKeyWidth() { return heads * qkDim(); }

    @Override public int cachedValueWidth() { return heads * valueDim; }
}
