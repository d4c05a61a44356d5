package cgap.models;

import cgap.engine.runtime.ActivationFunction;
import cgap.engine.runtime.RopeTable;
import cgap.kernels.DType;

/**
 * Everything that distinguishes one decoder-only family from another, as data. A family's description
 * (see {@link Families}) fills this in from config.json; {@link DecoderBuilder} turns it plus the checkpoint into a
 * runnable transformer. Per-layer arrays have one entry per layer.
 *
 * @param family       short family name (llama, mistral, qwen2, qwen3, olmo2, gemma, gemma2, gemma3, deepseek_v2)
 * @param normAddOne   RMSNorm weight applied as (1 + w) (Gemma)
 * @param norms        where the norms sit around the sub-blocks
 * @param qkNorm       q/k RMSNorm before RoPE: none, per head (Qwen3, Gemma 3) or over the whole projection (OLMo 2)
 * @param embedScale   factor on the embeddings (Gemma: sqrt(d) rounded to the checkpoint dtype), else 1
 * @param attnScale    multiplier on q.k
 * @param window       sliding window per layer, 0 = full causal attention
 * @param rope         RoPE per layer (Gemma 3 uses two bases)
 * @param moe          mixture-of-experts options (DeepSeek-V2), null for dense MLPs everywhere
 * @param mla          latent attention options (DeepSeek-V2), null for grouped-query attention
 */
public record DecoderSpec(
        String family, String architecture, DType dtype,
        int hidden, int layers, int heads, int kvHeads, int headDim, int intermediate, int vocab,
        float eps, boolean normAddOne, NormPlacement norms, QkNorm qkNorm,
        boolean qkvBias, boolean oBias, ActivationFunction act,
        float embedScale, float attnScale, float attnSoftcap, float finalSoftcap,
        int[] window, RopeTable[] rope, boolean tiedEmbeddings,
        MoeSpec moe, MlaSpec mla) {

    public enum NormPlacement {
        /** input_layernorm before attention, post_attention_layernorm before the MLP (Llama). */
        PRE,
        /** Pre-norms plus post_attention_layernorm / post_feedforward_layernorm on the outputs (Gemma 2/3). */
        SANDWICH,
        /** Only norms on the sub-block outputs (OLMo 2). */
        POST
    }

    public enum QkNorm { NONE, PER_HEAD, FULL }

    /** DeepSeek-V2 mixture of experts. */
    public record MoeSpec(int firstDenseLayers, int experts, int topK, int sharedExperts, int expertWidth,
                          float routedScaling, boolean groupLimited, int groups, int topKGroups) {}

    /** DeepSeek-V2 multi-head latent attention. qLoraRank 0 = direct q_proj. */
    public record MlaSpec(int qLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int valueDim) {}

    public boolean isMoeLayer(int layer) { return moe != null && layer >= moe.firstDenseLayers(); }
}
