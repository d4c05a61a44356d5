package cgap.tests;

import cgap.engine.Tensor;
import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.ActivationFunction;
import cgap.engine.runtime.ExpertRouting;
import cgap.engine.runtime.GatedMlp;
import cgap.engine.runtime.MixtureOfExperts;
import cgap.engine.safetensors.SafetensorsFile;
import cgap.kernels.WeightMatrix;
import cgap.models.DecoderSpec;
import cgap.models.Families;
import cgap.models.ModelConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeepSeek-V2 specifics the HF parity fixtures do not pin down on their own: the routing rule on hand-chosen
 * router scores (group limit, ties, weights), the expert-routing listener and top-k edits, and the config
 * reading, and the command line on a fixture. In the hand-built MoE the router is the identity, so a token's
 * hidden vector is its router logits.
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
                r -> Arrays.fill(r.weights(), 0f));
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

    // ---- the command line on an HF fixture -------------------------------------------------------------------

    static final Path GROUP = Fixtures.hf().resolve("deepseek-v2-group-bf16");

    @Test
    void cliForwardRecordsRouterHooksMatchingHf(@TempDir Path tmp) {
        Path out = tmp.resolve("run.safetensors");
        CliTest.Run r = CliTest.cgap("forward", "--model", GROUP.toString(), "--tokens", CliTest.tokens(GROUP),
                "--out", out.toString(), "--hooks", "blocks.*.mlp.*,blocks.*.hook_mlp_out,logits");
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(GROUP.resolve("reference.safetensors"))) {
            assertTrue(got.names().containsAll(List.of("blocks.0.mlp.hook_pre", "blocks.1.mlp.hook_router_logits",
                    "blocks.2.mlp.hook_topk_ids", "blocks.2.hook_mlp_out")), got.names().toString());
            assertFalse(got.names().contains("blocks.1.mlp.hook_pre"), "MoE layers have no mlp.hook_pre");
            for (String name : got.names()) {
                Tensor g = got.tensor(name), w = want.tensor(name);
                assertArrayEquals(w.shape(), g.shape(), name);
                if (name.endsWith("hook_topk_ids")) {
                    int k = (int) w.shape()[1];
                    assertArrayEquals(HfParityTest.sortedRows(w.toFloatArray(), k), HfParityTest.sortedRows(g.toFloatArray(), k), name);
                } else {
                    assertTrue(Fixtures.relativeError(g.toFloatArray(), w.toFloatArray(), (int) w.numel()) < 3e-5, name);
                }
            }
        }
    }

    @Test
    void cliGenerateAndInfo() {
        JsonNode gen = Fixtures.json(GROUP.resolve("reference.json")).get("generate");
        String prompt = Arrays.stream(Fixtures.ints(gen.get("prompt"))).mapToObj(Integer::toString).collect(Collectors.joining(","));
        CliTest.Run r = CliTest.cgap("generate", "--model", GROUP.toString(), "--tokens", prompt, "--max-new-tokens",
                gen.get("max_new_tokens").asText(), "--ignore-eos", "--json");
        assertEquals(0, r.exit(), r.err());
        String expected = Arrays.stream(Fixtures.ints(gen.get("continuation"))).mapToObj(Integer::toString).collect(Collectors.joining(", "));
        assertEquals("{\"tokens\": [" + expected + "]}", r.out().trim());

        CliTest.Run info = CliTest.cgap("info", "--model", GROUP.toString());
        assertEquals(0, info.exit(), info.err());
        assertTrue(info.out().contains("DeepseekV2ForCausalLM (MLA") && info.out().contains("top-3 within 2 of 4 groups"), info.out());
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

    /** transformers 5.18's _compute_yarn_parameters for V2-Lite's rope_scaling over qk_rope_head_dim 64, as f32 bits. */
    static final int[] LITE_YARN_INV_FREQ_BITS = {
            0x3f800000, 0x3f3ff911, 0x3f0ff59a, 0x3ed7e89b, 0x3ea1e89b, 0x3e72d423, 0x3e361887, 0x3e088d77,
            0x3dcccccd, 0x3d99940d, 0x3d6655c2, 0x3d1fc5ba, 0x3cdc321b, 0x3c968dc3, 0x3c4bf283, 0x3c088d77,
            0x3bb43959, 0x3b697066, 0x3b136a16, 0x3ab3a2cd, 0x3a4f3e37, 0x39d99312, 0x393a7753, 0x380bd471,
            0x37d1b717, 0x379d43a3, 0x376bdcf0, 0x3730df51, 0x3704a2b3, 0x36c6ecdd, 0x36952c42, 0x365fba4f};

    @Test
    void liteYarnFrequenciesAreTransformersBitForBit() {
        float[] inv = describe(liteConfig()).rope()[0].invFreq();
        int[] bits = new int[inv.length];
        for (int i = 0; i < inv.length; i++) bits[i] = Float.floatToRawIntBits(inv[i]);
        assertArrayEquals(LITE_YARN_INV_FREQ_BITS, bits);
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
