package cgap.models;

import cgap.engine.runtime.ActivationFunction;
import cgap.engine.runtime.RopeTable;
import cgap.kernels.DType;
import cgap.models.DecoderSpec.MlaSpec;
import cgap.models.DecoderSpec.MoeSpec;
import cgap.models.DecoderSpec.NormPlacement;
import cgap.models.DecoderSpec.QkNorm;

/** Mutable scratch for a family description: the Llama defaults, changed field by field, then frozen. */
final class SpecBuilder {
    String family, architecture, architectureNote;
    DType dtype;
    int hidden, layers, heads, kvHeads, headDim, intermediate, vocab, maxPositions;
    float eps;
    boolean normAddOne, qkvBias, oBias, tied;
    NormPlacement norms = NormPlacement.PRE;
    QkNorm qkNorm = QkNorm.NONE;
    ActivationFunction act = ActivationFunction.SILU;
    float embedScale = 1f, attnScale, attnSoftcap, finalSoftcap;
    int[] window;
    RopeTable[] rope;
    MoeSpec moe;
    MlaSpec mla;

    /** The keys every family shares, with HF's fallbacks (head_dim = hidden / heads, kv heads = heads). */
    static SpecBuilder common(ModelConfig c, String family) {
        SpecBuilder s = new SpecBuilder();
        s.family = family;
        s.architecture = c.architecture();
        s.dtype = dtype(c);
        s.hidden = c.integer("hidden_size");
        s.layers = c.integer("num_hidden_layers");
        s.heads = c.integer("num_attention_heads");
        s.kvHeads = c.integer("num_key_value_heads", s.heads);
        s.headDim = c.integer("head_dim", s.hidden / s.heads);
        s.intermediate = c.integer("intermediate_size");
        s.vocab = c.integer("vocab_size");
        s.maxPositions = c.integer("max_position_embeddings", 4096);
        s.eps = (float) c.number("rms_norm_eps", 1e-6);
        s.attnScale = (float) Math.pow(s.headDim, -0.5);
        s.window = new int[s.layers];
        s.rope = new RopeTable[s.layers];
        if (s.heads % s.kvHeads != 0) {
            throw new IllegalArgumentException(c.file() + ": num_attention_heads (" + s.heads
                    + ") is not a multiple of num_key_value_heads (" + s.kvHeads + ")");
        }
        return s;
    }

    static DType dtype(ModelConfig c) {
        String name = c.dtypeName();
        if (name == null) return DType.F32;
        return switch (name) {
            case "float32" -> DType.F32;
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            default -> throw new IllegalArgumentException(c.file() + ": dtype '" + name + "' is not supported (float32, bfloat16, float16)");
        };
    }

    DecoderSpec build() {
        String arch = architectureNote == null ? architecture : architecture + " (" + architectureNote + ")";
        return new DecoderSpec(family, arch, dtype, hidden, layers, heads, kvHeads, headDim, intermediate, vocab,
                eps, normAddOne, norms, qkNorm, qkvBias, oBias, act, embedScale, attnScale, attnSoftcap, finalSoftcap,
                window, rope, tied, moe, mla);
    }
}
