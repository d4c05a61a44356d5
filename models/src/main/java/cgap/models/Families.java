package cgap.models;

import cgap.engine.runtime.ActivationFunction;
import cgap.engine.runtime.RopeTable;
import cgap.kernels.DType;
import cgap.models.DecoderSpec.NormPlacement;
import cgap.models.DecoderSpec.QkNorm;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One short description per family: what it changes relative to the Llama layout, read from config.json.
 * Each returns a {@link DecoderSpec}; nothing here runs a model.
 */
public final class Families {
    private Families() {}

    public static final List<String> ARCHITECTURES = List.of(
            "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Olmo2ForCausalLM",
            "GemmaForCausalLM", "Gemma2ForCausalLM", "Gemma3ForCausalLM", "Gemma3ForConditionalGeneration",
            "DeepseekV2ForCausalLM");

    public static DecoderSpec describe(ModelConfig config) {
        String arch = config.architecture();
        return switch (arch) {
            case "LlamaForCausalLM" -> llama(config);
            case "MistralForCausalLM" -> mistral(config);
            case "Qwen2ForCausalLM" -> qwen2(config);
            case "Qwen3ForCausalLM" -> qwen3(config);
            case "Olmo2ForCausalLM" -> olmo2(config);
            case "GemmaForCausalLM" -> gemma(config);
            case "Gemma2ForCausalLM" -> gemma2(config);
            case "Gemma3ForCausalLM" -> gemma3(config, false);
            case "Gemma3ForConditionalGeneration" -> gemma3(config.textConfig(GEMMA3_TEXT_DEFAULTS), true);
            case "DeepseekV2ForCausalLM" -> DeepseekV2.describe(config);
            default -> throw new IllegalArgumentException(config.file() + ": architecture '" + arch
                    + "' is not supported (supported: " + String.join(", ", ARCHITECTURES) + ")");
        };
    }

    // ---- Llama and its close relatives -------------------------------------------------------------------

    /** Llama 2/3: pre-norms, SiLU GLU, optional biases on all four projections, one RoPE. */
    static SpecBuilder llamaLayout(ModelConfig c, String family) {
        SpecBuilder s = SpecBuilder.common(c, family);
        s.act = siluOnly(c);
        s.qkvBias = s.oBias = c.bool("attention_bias", false);
        s.tied = c.bool("tie_word_embeddings", false);
        s.rope = sameForAll(s.layers, Ropes.table(c, Ropes.paramsPath(c), Ropes.params(c),
                c.number("rope_theta", 10000.0), s.headDim, s.maxPositions, false));
        return s;
    }

    static DecoderSpec llama(ModelConfig c) { return llamaLayout(c, "llama").build(); }

    /** Mistral: Llama plus a sliding window on every layer when sliding_window is set. */
    static DecoderSpec mistral(ModelConfig c) {
        SpecBuilder s = llamaLayout(c, "mistral");
        s.qkvBias = s.oBias = false;
        Arrays.fill(s.window, c.integer("sliding_window", 0));
        return s.build();
    }

    /** Qwen2: biases on q/k/v (not o) though no flag says so; a window only with use_sliding_window. */
    static DecoderSpec qwen2(ModelConfig c) {
        SpecBuilder s = llamaLayout(c, "qwen2");
        s.qkvBias = true;
        s.oBias = false;
        qwenWindows(c, s);
        return s.build();
    }

    /** Qwen3: per-head q/k RMSNorm before RoPE; biases only when attention_bias says so. */
    static DecoderSpec qwen3(ModelConfig c) {
        SpecBuilder s = llamaLayout(c, "qwen3");
        s.qkNorm = QkNorm.PER_HEAD;
        qwenWindows(c, s);
        return s.build();
    }

    private static void qwenWindows(ModelConfig c, SpecBuilder s) {
        if (!c.bool("use_sliding_window", false) || !c.has("sliding_window")) return;
        int window = c.integer("sliding_window");
        String[] types = layerTypes(c, s.layers);
        for (int i = 0; i < s.layers; i++) {
            boolean sliding = types != null ? types[i].equals("sliding_attention") : i >= c.integer("max_window_layers", 28);
            s.window[i] = sliding ? window : 0;
        }
    }

    /** OLMo 2: no pre-norms; norms on the attention and MLP outputs; q/k norm over the whole projection. */
    static DecoderSpec olmo2(ModelConfig c) {
        SpecBuilder s = llamaLayout(c, "olmo2");
        s.norms = NormPlacement.POST;
        s.qkNorm = QkNorm.FULL;
        return s.build();
    }

    // ---- Gemma -------------------------------------------------------------------------------------------

    /** Gemma 1: (1 + w) norms, GELU-tanh (even when hidden_act says "gelu"), sqrt(d)-scaled tied embeddings. */
    static SpecBuilder gemmaLayout(ModelConfig c, String family) {
        SpecBuilder s = SpecBuilder.common(c, family);
        s.normAddOne = true;
        s.act = ActivationFunction.GELU_TANH;
        s.tied = c.bool("tie_word_embeddings", true);
        s.qkvBias = s.oBias = c.bool("attention_bias", false);
        s.embedScale = roundToDtype((float) Math.sqrt(s.hidden), s.dtype);
        return s;
    }

    static DecoderSpec gemma(ModelConfig c) {
        SpecBuilder s = gemmaLayout(c, "gemma");
        s.rope = sameForAll(s.layers, Ropes.table(c, Ropes.paramsPath(c), Ropes.params(c),
                c.number("rope_theta", 10000.0), s.headDim, s.maxPositions, false));
        return s.build();
    }

    /** Gemma 2: sandwich norms, query_pre_attn_scalar, attention and final soft-caps, sliding on even layers. */
    static DecoderSpec gemma2(ModelConfig c) {
        SpecBuilder s = gemmaLayout(c, "gemma2");
        s.norms = NormPlacement.SANDWICH;
        s.attnScale = (float) Math.pow(c.number("query_pre_attn_scalar"), -0.5);
        s.attnSoftcap = (float) c.number("attn_logit_softcapping", 0);
        s.finalSoftcap = (float) c.number("final_logit_softcapping", 0);
        String[] types = layerTypes(c, s.layers);
        int window = c.integer("sliding_window", 0);
        for (int i = 0; i < s.layers; i++) {
            boolean sliding = types != null ? types[i].equals("sliding_attention") : i % 2 == 0;
            s.window[i] = sliding ? window : 0;
        }
        s.rope = sameForAll(s.layers, Ropes.table(c, Ropes.paramsPath(c), Ropes.params(c),
                c.number("rope_theta", 10000.0), s.headDim, s.maxPositions, false));
        return s.build();
    }

    /** Defaults of Gemma3TextConfig, for the sparse text_config of multimodal checkpoints. */
    static final Map<String, Object> GEMMA3_TEXT_DEFAULTS = Map.ofEntries(
            Map.entry("vocab_size", 262208), Map.entry("hidden_size", 2304), Map.entry("intermediate_size", 9216),
            Map.entry("num_hidden_layers", 26), Map.entry("num_attention_heads", 8),
            Map.entry("num_key_value_heads", 4), Map.entry("head_dim", 256),
            Map.entry("max_position_embeddings", 131072), Map.entry("rms_norm_eps", 1e-6),
            Map.entry("rope_theta", 1_000_000.0), Map.entry("rope_local_base_freq", 10_000.0),
            Map.entry("query_pre_attn_scalar", 256), Map.entry("sliding_window", 4096),
            Map.entry("sliding_window_pattern", 6), Map.entry("tie_word_embeddings", true));

    /**
     * Gemma 3: sandwich norms, per-head (1 + w) q/k norms, no attention soft-cap whatever the config says,
     * sliding on layers where (i + 1) % pattern != 0 (or as layer_types says), a local RoPE base on sliding
     * layers and the global base with its scaling on full ones. The multimodal class has no final soft-cap.
     */
    static DecoderSpec gemma3(ModelConfig c, boolean multimodal) {
        SpecBuilder s = gemmaLayout(c, "gemma3");
        s.norms = NormPlacement.SANDWICH;
        s.qkNorm = QkNorm.PER_HEAD;
        s.attnScale = (float) Math.pow(c.number("query_pre_attn_scalar", 256), -0.5);
        s.finalSoftcap = multimodal ? 0 : (float) c.number("final_logit_softcapping", 0);
        s.architectureNote = multimodal ? "text model of Gemma3ForConditionalGeneration (vision tower not loaded)" : null;

        String[] types = layerTypes(c, s.layers);
        int pattern = c.integer("sliding_window_pattern", 6);
        int window = c.integer("sliding_window", 4096);
        JsonNode params = c.node("rope_parameters");
        boolean nested = params != null && params.isObject() && (params.has("full_attention") || params.has("sliding_attention"));
        JsonNode fullParams = nested ? params.get("full_attention") : Ropes.params(c);
        JsonNode localParams = nested ? params.get("sliding_attention") : null;
        RopeTable global = Ropes.table(c, nested ? "rope_parameters.full_attention" : Ropes.paramsPath(c), fullParams,
                c.number("rope_theta", 1_000_000.0), s.headDim, s.maxPositions, false);
        RopeTable local = Ropes.table(c, "rope_parameters.sliding_attention", localParams,
                c.number("rope_local_base_freq", 10_000.0), s.headDim, s.maxPositions, false);
        for (int i = 0; i < s.layers; i++) {
            boolean sliding = types != null ? types[i].equals("sliding_attention") : (i + 1) % pattern != 0;
            s.window[i] = sliding ? window : 0;
            s.rope[i] = sliding ? local : global;
        }
        return s.build();
    }

    // ---- shared helpers ----------------------------------------------------------------------------------

    static String[] layerTypes(ModelConfig c, int layers) {
        JsonNode t = c.node("layer_types");
        if (t == null || t.isNull()) return null;
        if (!t.isArray() || t.size() != layers) {
            throw new IllegalArgumentException(c.file() + ": key 'layer_types' must list one type per layer (" + layers + ")");
        }
        String[] types = new String[layers];
        for (int i = 0; i < layers; i++) types[i] = t.get(i).asText();
        return types;
    }

    static ActivationFunction siluOnly(ModelConfig c) {
        String act = c.text("hidden_act", "silu");
        if (!act.equals("silu")) throw new IllegalArgumentException(c.file() + ": hidden_act '" + act + "' is not supported for this family (expected silu)");
        return ActivationFunction.SILU;
    }

    static RopeTable[] sameForAll(int layers, RopeTable rope) {
        RopeTable[] r = new RopeTable[layers];
        Arrays.fill(r, rope);
        return r;
    }

    /** What HF gets by building a scalar in the checkpoint's dtype (Gemma's embedding normalizer). */
    static float roundToDtype(float x, DType dtype) {
        return switch (dtype) {
            case F32 -> x;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(x));
            case BF16 -> {
                int bits = Float.floatToRawIntBits(x);
                bits += 0x7FFF + ((bits >>> 16) & 1); // round to nearest even
                yield Float.intBitsToFloat(bits & 0xFFFF0000);
            }
        };
    }
}
