package cgap.tests;

import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.ActivationFunction;
import cgap.engine.runtime.ExpertRouting;
import cgap.engine.runtime.GatedMlp;
import cgap.engine.runtime.MixtureOfExperts;
import cgap.kernels.WeightMatrix;
import cgap.models.DecoderSpec;
import cgap.models.Families;
import cgap.models.ModelConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeepSeek-V2 specifics the HF parity fixtures do not pin down on their own: the routing rule on hand-chosen
 * router scores (group limit, ties, weights), the expert-routing listener and top-k edits, and the config
 * reading. The router is the identity, so a token's hidden vector is its router logits.
 */
class DeepseekV2Test {
    static final int EXPERTS = 8, D = 8, WIDTH = 4;
    static final float SCALING = 1.5f;

    /** Experts and shared experts with seeded random weights; router = identity over D = EXPERTS. */
    static MixtureOfExperts moe(int topK, int groups, int groupsKept) {
        Random random = new Random(7);
        List<GatedMlp> experts = new ArrayList<>();
        for (int e = 0; e < EXPERTS; e++) experts.add(mlp(random, WIDTH));
        float[] identity = new float[EXPERTS * D];
        for (int i = 0; i < EXPERTS; i++) identity[i * D + i] = 1f;
        return new MixtureOfExperts(WeightMatrix.ofFloats(identity, EXPERTS, D), experts, mlp(random, 2 * WIDTH),
                topK, SCALING, groups, groupsKept);
    }

    static GatedMlp mlp(Random random, int width) {
        return new GatedMlp(matrix(random, width, D), matrix(random, width, D), matrix(random, D, width),
                ActivationFunction.SILU);
    }

    static WeightMatrix matrix(Random random, int rows, int cols) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextGaussian() / (float) Math.sqrt(cols);
        return WeightMatrix.ofFloats(w, rows, cols);
    }

    /** Runs one token through the MoE and returns the routing the listener saw. */
    static ExpertRouting route(MixtureOfExperts moe, float[] logits) {
        ExpertRouting[] seen = new ExpertRouting[1];
        HookRegistry hooks = new HookRegistry().listen(ExpertRouting.Listener.class, r -> seen[0] = r);
        moe.forward(logits, 1, 0, 3, hooks, new float[D]);
        return seen[0];
    }

    static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float x : logits) max = Math.max(max, x);
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    /** What the MoE must output for one token routed to ids with weights: sum w * expert(h) + shared(h). */
    static float[] expected(MixtureOfExperts moe, float[] h, int[] ids, double[] weights) {
        double[] sum = new double[D];
        for (int s = 0; s < ids.length; s++) {
            float[] y = new float[D];
            moe.experts().get(ids[s]).forward(h, 1, 0, -1, HookRegistry.none(), y);
            for (int c = 0; c < D; c++) sum[c] += weights[s] * y[c];
        }
        float[] shared = new float[D];
        moe.shared().forward(h, 1, 0, -1, HookRegistry.none(), shared);
        float[] out = new float[D];
        for (int c = 0; c < D; c++) out[c] = (float) (sum[c] + shared[c]);
        return out;
    }

    static void assertClose(float[] want, float[] got, String what) {
        double err = Fixtures.relativeError(got, want, want.length);
        assertTrue(err < 1e-6, what + ": rel err " + err);
    }

    // Groups of two experts: {0,1} {2,3} {4,5} {6,7}. Best per group: 5, 4.75, 4.8, 0.5.
    static final float[] LOGITS = {5f, 0f, 1f, 4.75f, 4.8f, 4.7f, 0f, 0.5f};

    @Test
    void greedyTakesTheLargestProbabilitiesWithWeightsTimesScaling() {
        ExpertRouting r = route(moe(3, 1, 1), LOGITS);
        assertArrayEquals(new int[] {0, 4, 3}, r.expertIds());
        double[] p = softmax(LOGITS);
        for (int s = 0; s < 3; s++) assertEquals(p[r.expert(0, s)] * SCALING, r.weight(0, s), 1e-6);
    }

    @Test
    void groupLimitedKeepsOnlyTheBestGroups() {
        // Keeping 2 of 4 groups drops {2,3} (best 4.75 < 4.8), so expert 3 loses to expert 5.
        ExpertRouting r = route(moe(3, 4, 2), LOGITS);
        assertArrayEquals(new int[] {0, 4, 5}, r.expertIds());
        double[] p = softmax(LOGITS);
        assertEquals(p[5] * SCALING, r.weight(0, 2), 1e-6, "weights stay the unmasked probabilities");
    }

    @Test
    void tiesGoToTheLowerExpertId() {
        assertArrayEquals(new int[] {0, 1, 2}, route(moe(3, 1, 1), new float[] {2, 2, 2, 2, 1, 1, 1, 1}).expertIds());
        assertArrayEquals(new int[] {4, 5, 6}, route(moe(3, 1, 1), new float[] {1, 1, 1, 1, 2, 2, 2, 2}).expertIds());
    }

    @Test
    void outputIsTheWeightedChosenExpertsPlusTheSharedOnes() {
        MixtureOfExperts moe = moe(3, 1, 1);
        float[] out = new float[D];
        moe.forward(LOGITS, 1, 0, 0, HookRegistry.none(), out);
        double[] p = softmax(LOGITS);
        int[] ids = {0, 4, 3};
        double[] w = {p[0] * SCALING, p[4] * SCALING, p[3] * SCALING};
        assertClose(expected(moe, LOGITS, ids, w), out, "MoE output");
    }

    @Test
    void listenerCanAblateRoutedExperts() {
        MixtureOfExperts moe = moe(3, 1, 1);
        float[] out = new float[D];
        HookRegistry hooks = new HookRegistry().listen(ExpertRouting.Listener.class,
                r -> java.util.Arrays.fill(r.weights(), 0f));
        moe.forward(LOGITS, 1, 0, 0, hooks, out);
        assertClose(expected(moe, LOGITS, new int[0], new double[0]), out, "only the shared experts remain");
    }

    @Test
    void editedTopkIdsReroute() {
        MixtureOfExperts moe = moe(3, 1, 1);
        float[] out = new float[D];
        ExpertRouting[] seen = new ExpertRouting[1];
        HookRegistry hooks = new HookRegistry()
                .add("blocks.2.mlp.hook_topk_ids", a -> {
                    a.set(0, 0, 7);
                    a.set(0, 1, 6);
                    a.set(0, 2, 1);
                })
                .listen(ExpertRouting.Listener.class, r -> seen[0] = r);
        moe.forward(LOGITS, 1, 0, 2, hooks, out);
        assertArrayEquals(new int[] {7, 6, 1}, seen[0].expertIds());
        double[] p = softmax(LOGITS);
        assertClose(expected(moe, LOGITS, new int[] {7, 6, 1}, new double[] {p[7] * SCALING, p[6] * SCALING, p[1] * SCALING}),
                out, "rerouted output");

        HookRegistry bad = new HookRegistry().add("blocks.2.mlp.hook_topk_ids", a -> a.set(0, 0, 8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> moe.forward(LOGITS, 1, 0, 2, bad, new float[D]));
        assertTrue(e.getMessage().contains("blocks.2.mlp"), e.getMessage());
    }

    @Test
    void moeLayersHaveRouterHooksInsteadOfMlpPrePost() {
        assertEquals(List.of(HookPoint.ROUTER_LOGITS, HookPoint.TOPK_IDS), moe(2, 1, 1).hookPoints());
    }

    // ---- config.json ---------------------------------------------------------------------------------------

    static ObjectNode liteConfig() {
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.putArray("architectures").add("DeepseekV2ForCausalLM");
        c.put("hidden_size", 2048).put("num_hidden_layers", 27).put("num_attention_heads", 16)
                .put("num_key_value_heads", 16).put("intermediate_size", 10944).put("vocab_size", 102400)
                .put("max_position_embeddings", 163840).put("rms_norm_eps", 1e-6).put("torch_dtype", "bfloat16")
                .put("kv_lora_rank", 512).put("qk_nope_head_dim", 128).put("qk_rope_head_dim", 64)
                .put("v_head_dim", 128).put("n_routed_experts", 64).put("n_shared_experts", 2)
                .put("num_experts_per_tok", 6).put("moe_intermediate_size", 1408).put("first_k_dense_replace", 1)
                .put("routed_scaling_factor", 1.0).put("topk_method", "greedy").put("rope_theta", 10000.0);
        c.putNull("q_lora_rank");
        c.putObject("rope_scaling").put("type", "yarn").put("factor", 40).put("beta_fast", 32).put("beta_slow", 1)
                .put("mscale", 0.707).put("mscale_all_dim", 0.707).put("original_max_position_embeddings", 4096);
        return c;
    }

    static DecoderSpec describe(ObjectNode json) { return Families.describe(ModelConfig.of(Path.of("config.json"), json)); }

    @Test
    void readsTheHubLiteConfig() {
        DecoderSpec s = describe(liteConfig());
        assertEquals(new DecoderSpec.MlaSpec(0, 512, 128, 64, 128), s.mla());
        assertEquals(new DecoderSpec.MoeSpec(1, 64, 6, 2, 1408, 1f, false, 1, 1), s.moe());
        assertEquals(192, s.headDim());
        assertTrue(!s.isMoeLayer(0) && s.isMoeLayer(1) && s.isMoeLayer(26));
        double m = 0.1 * 0.707 * Math.log(40) + 1;
        assertEquals((float) (Math.pow(192, -0.5) * m * m), s.attnScale());
        assertEquals(32, s.rope()[0].invFreq().length, "rope over qk_rope_head_dim, not the attention head");
        assertTrue(s.rope()[0].interleaved());
        assertEquals(1f, s.rope()[0].attentionScaling(), "mscale == mscale_all_dim: cos/sin factor 1");
    }

    @Test
    void transformers5HeadDimIsTheRopeSizeAndIgnored() {
        ObjectNode json = liteConfig();
        json.put("head_dim", 64).put("q_lora_rank", 1536);
        DecoderSpec s = describe(json);
        assertEquals(192, s.headDim());
        assertEquals(1536, s.mla().qLoraRank());
        json.remove("q_lora_rank");
        assertEquals(1536, describe(json).mla().qLoraRank(), "absent q_lora_rank takes DeepseekV2Config's default");
    }

    @Test
    void groupLimitedAndUnsupportedRouting() {
        ObjectNode json = liteConfig();
        json.put("topk_method", "group_limited_greedy").put("n_group", 8).put("topk_group", 3);
        DecoderSpec.MoeSpec moe = describe(json).moe();
        assertTrue(moe.groupLimited());
        assertEquals(8, moe.groups());
        assertEquals(3, moe.topKGroups());

        json.put("topk_method", "noaux_tc");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> describe(json));
        assertTrue(e.getMessage().contains("noaux_tc"), e.getMessage());
    }

    @Test
    void noRoutedExpertsMeansDenseEverywhere() {
        ObjectNode json = liteConfig();
        json.putNull("n_routed_experts");
        assertNull(describe(json).moe());
    }
}
