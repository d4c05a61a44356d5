package cgap.gap.bench;

import cgap.models.DecoderSpec;
import cgap.models.Model;

/**
 * How many weight bytes one decoded token reads, and how many FLOPs one token costs, from the model's shape:
 * every projection matrix once, the unembedding, and for MoE layers only the router, the k routed experts
 * chosen and the shared experts.
 */
public final class WeightTraffic {
    private WeightTraffic() {}

    /** Matrix elements one token multiplies through. */
    static long activeMatrixElements(DecoderSpec s) {
        long d = s.hidden();
        long total = (long) s.vocab() * d; // unembedding
        for (int i = 0; i < s.layers(); i++) {
            total += attentionElements(s);
            if (s.isMoeLayer(i)) {
                DecoderSpec.MoeSpec moe = s.moe();
                total += (long) moe.experts() * d + 3L * d * moe.expertWidth() * (moe.topK() + moe.sharedExperts());
            } else {
                total += 3L * d * s.intermediate();
            }
        }
        return total;
    }

    static long attentionElements(DecoderSpec s) {
        long d = s.hidden();
        DecoderSpec.MlaSpec mla = s.mla();
        if (mla == null) {
            long q = (long) s.heads() * s.headDim(), kv = (long) s.kvHeads() * s.headDim();
            return d * q + 2 * d * kv + q * d;
        }
        long qk = mla.nopeDim() + mla.ropeDim();
        long q = mla.qLoraRank() == 0 ? d * s.heads() * qk : d * mla.qLoraRank() + (long) mla.qLoraRank() * s.heads() * qk;
        long kvA = d * (mla.kvLoraRank() + mla.ropeDim());
        long kvB = (long) mla.kvLoraRank() * s.heads() * (mla.nopeDim() + mla.valueDim());
        long o = (long) s.heads() * mla.valueDim() * d;
        return q + kvA + kvB + o;
    }

    public static double bytesPerDecodedToken(Model m) {
        return activeMatrixElements(m.spec()) * (double) m.spec().dtype().bytes;
    }

    /**
     * Matrix FLOPs per prompt token of a prefill of T tokens: every layer's projections for each token, the
     * unembedding once (only the last position's logits are needed to pick the next token).
     */
    public static double prefillFlopsPerToken(Model m, int T) {
        DecoderSpec s = m.spec();
        double unembedding = (double) s.vocab() * s.hidden();
        return 2.0 * (activeMatrixElements(s) - unembedding) + 2.0 * unembedding / T;
    }
}
