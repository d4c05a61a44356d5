package cgap.models;

import cgap.engine.runtime.RopeTable;
import cgap.models.DecoderSpec.MlaSpec;
import cgap.models.DecoderSpec.MoeSpec;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * DeepSeek-V2 (and -Lite, -Chat): the Llama layout with multi-head latent attention on every layer and a
 * mixture of experts replacing the MLP from layer first_k_dense_replace on. Reads both config dialects: the hub's
 * remote-code config.json (rope_scaling with "type", rope_theta) and transformers 5's (rope_parameters, and a
 * {@code head_dim} that is the rope head size, not the attention one: it is ignored here).
 *
 * <p>Defaults for absent keys are DeepseekV2Config's; a key present as null means "off" (q_lora_rank null: q
 * comes straight from q_proj, as in V2-Lite).
 */
final class DeepseekV2 {
    private DeepseekV2() {}

    static DecoderSpec describe(ModelConfig c) {
        SpecBuilder s = SpecBuilder.common(c, "deepseek_v2");
        s.act = Families.siluOnly(c);
        s.tied = c.bool("tie_word_embeddings", false);
        s.qkvBias = s.oBias = c.bool("attention_bias", false); // q_a, kv_a and o projections
        if (c.bool("mlp_bias", false)) throw new IllegalArgumentException(c.file() + ": mlp_bias true is not supported");

        int qLoraRank = nullable(c, "q_lora_rank", 1536);
        int kvLoraRank = c.integer("kv_lora_rank", 512);
        int nope = c.integer("qk_nope_head_dim", 128);
        int rope = c.integer("qk_rope_head_dim", 64);
        int value = c.integer("v_head_dim", 128);
        s.mla = new MlaSpec(qLoraRank, kvLoraRank, nope, rope, value);
        s.kvHeads = s.heads;          // every head gets its own expanded key and value
        s.headDim = nope + rope;      // the attention head size (q.k); values are v_head_dim wide

        JsonNode params = Ropes.params(c);
        String path = Ropes.paramsPath(c);
        RopeTable table = Ropes.table(c, path, params, c.number("rope_theta", 10000.0), rope, s.maxPositions, true);
        s.rope = Families.sameForAll(s.layers, table);
        s.attnScale = (float) softmaxScale(c, path, params, nope + rope);

        int experts = nullable(c, "n_routed_experts", 64);
        if (experts > 0) {
            String method = c.text("topk_method", "greedy");
            boolean grouped = switch (method) {
                case "greedy" -> false;
                case "group_limited_greedy" -> true;
                default -> throw new IllegalArgumentException(c.file() + ": topk_method '" + method
                        + "' is not supported (supported: greedy, group_limited_greedy)");
            };
            int topK = c.integer("num_experts_per_tok");
            int groups = grouped ? c.integer("n_group") : 1;
            int groupsKept = grouped ? c.integer("topk_group") : 1;
            s.moe = new MoeSpec(c.integer("first_k_dense_replace", 0), experts, topK,
                    nullable(c, "n_shared_experts", 2), c.integer("moe_intermediate_size", 1407),
                    (float) c.number("routed_scaling_factor", 1.0), grouped, groups, groupsKept);
        }
        s.architectureNote = note(s.mla, s.moe, s.layers);
        return s.build();
    }

    /**
     * (nope + rope)^-0.5, times mscale^2 when the rope is scaled and mscale_all_dim is set, with
     * mscale = 0.1 * mscale_all_dim * ln(factor) + 1 (transformers' yarn_apply_mscale, in double).
     */
    static double softmaxScale(ModelConfig c, String path, JsonNode params, int qkDim) {
        double scale = Math.pow(qkDim, -0.5);
        if (params == null) return scale;
        JsonNode type = params.hasNonNull("rope_type") ? params.get("rope_type") : params.get("type");
        double mscaleAllDim = c.number(params, path, "mscale_all_dim", 0);
        if (type != null && !type.asText().equals("default") && mscaleAllDim != 0) {
            double m = Yarn.mscale(Ropes.required(c, params, path, "factor"), mscaleAllDim);
            scale = scale * m * m;
        }
        return scale;
    }

    /** An integer key whose explicit null means 0 (off) and whose absence means the given default. */
    private static int nullable(ModelConfig c, String key, int absent) {
        JsonNode n = c.node(key);
        if (n == null) return absent;
        return n.isNull() ? 0 : c.integer(key);
    }

    private static String note(MlaSpec mla, MoeSpec moe, int layers) {
        String attention = "MLA, kv_lora_rank " + mla.kvLoraRank() + ", q_lora_rank "
                + (mla.qLoraRank() == 0 ? "none" : mla.qLoraRank()) + ", head " + mla.nopeDim() + "+" + mla.ropeDim()
                + " rope, v " + mla.valueDim();
        if (moe == null) return attention;
        return attention + "; MoE on layers " + moe.firstDenseLayers() + ".." + (layers - 1) + ": " + moe.experts()
                + " experts of width " + moe.expertWidth() + ", top-" + moe.topK()
                + (moe.groupLimited() ? " within " + moe.topKGroups() + " of " + moe.groups() + " groups" : "")
                + ", " + moe.sharedExperts() + " shared";
    }
}
