package cgap.models;

import cgap.engine.Tensor;
import cgap.engine.runtime.AttentionLayer;
import cgap.engine.runtime.Block;
import cgap.engine.runtime.GatedMlp;
import cgap.engine.runtime.GroupedQueryAttention;
import cgap.engine.runtime.LatentAttention;
import cgap.engine.runtime.MixtureOfExperts;
import cgap.engine.runtime.MlpLayer;
import cgap.engine.runtime.Norm;
import cgap.engine.runtime.Transformer;
import cgap.engine.safetensors.Checkpoint;
import cgap.kernels.WeightMatrix;
import cgap.models.DecoderSpec.MlaSpec;
import cgap.models.DecoderSpec.MoeSpec;
import cgap.models.DecoderSpec.NormPlacement;
import cgap.models.DecoderSpec.QkNorm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Binds a {@link DecoderSpec} to a checkpoint's tensors (HF names, read in place from the mapped files) and
 * assembles the {@link Transformer}. Every tensor is checked for presence and shape with a one-line error.
 */
public final class DecoderBuilder {
    /** Where the decoder's weights live: plain causal LMs, then multimodal checkpoints (hub, transformers 5). */
    private static final List<String> PREFIXES = List.of("model.", "language_model.model.", "model.language_model.");

    private final DecoderSpec s;
    private final Checkpoint ck;
    private final String prefix;

    private DecoderBuilder(DecoderSpec spec, Checkpoint checkpoint) {
        this.s = spec;
        this.ck = checkpoint;
        this.prefix = PREFIXES.stream().filter(p -> ck.contains(p + "embed_tokens.weight")).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(ck.dir() + ": no embedding tensor found (looked for "
                        + String.join(", ", PREFIXES.stream().map(p -> p + "embed_tokens.weight").toList()) + ")"));
    }

    public static Transformer build(DecoderSpec spec, Checkpoint checkpoint) {
        return new DecoderBuilder(spec, checkpoint).build();
    }

    private Transformer build() {
        WeightMatrix embedding = matrix(prefix + "embed_tokens.weight", s.vocab(), s.hidden());
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < s.layers(); i++) blocks.add(block(i));
        Norm finalNorm = norm(prefix + "norm.weight", s.hidden());
        WeightMatrix unembedding = s.tiedEmbeddings() && !ck.contains("lm_head.weight")
                ? embedding : matrix("lm_head.weight", s.vocab(), s.hidden());
        return new Transformer(s.hidden(), s.vocab(), embedding, s.embedScale(), blocks, finalNorm, unembedding,
                s.finalSoftcap());
    }

    private Block block(int i) {
        String p = prefix + "layers." + i + ".";
        int d = s.hidden();
        NormPlacement n = s.norms();
        Norm attnNorm = n == NormPlacement.POST ? null : norm(p + "input_layernorm.weight", d);
        Norm attnPost = n == NormPlacement.PRE ? null : norm(p + "post_attention_layernorm.weight", d);
        Norm mlpNorm = switch (n) {
            case PRE -> norm(p + "post_attention_layernorm.weight", d); // Llama's name for its pre-MLP norm
            case SANDWICH -> norm(p + "pre_feedforward_layernorm.weight", d);
            case POST -> null;
        };
        Norm mlpPost = n == NormPlacement.PRE ? null : norm(p + "post_feedforward_layernorm.weight", d);
        return new Block(attnNorm, attention(p + "self_attn.", i), attnPost, mlpNorm, mlp(p + "mlp.", i), mlpPost);
    }

    private AttentionLayer attention(String p, int layer) {
        if (s.mla() != null) return latentAttention(p, layer);
        int d = s.hidden(), hd = s.headDim(), q = s.heads() * hd, kv = s.kvHeads() * hd;
        Norm qNorm = null, kNorm = null;
        if (s.qkNorm() == QkNorm.PER_HEAD) {
            qNorm = norm(p + "q_norm.weight", hd);
            kNorm = norm(p + "k_norm.weight", hd);
        } else if (s.qkNorm() == QkNorm.FULL) {
            qNorm = norm(p + "q_norm.weight", q);
            kNorm = norm(p + "k_norm.weight", kv);
        }
        return new GroupedQueryAttention(
                matrix(p + "q_proj.weight", q, d), matrix(p + "k_proj.weight", kv, d),
                matrix(p + "v_proj.weight", kv, d), matrix(p + "o_proj.weight", d, q),
                s.qkvBias() ? vector(p + "q_proj.bias", q) : null, s.qkvBias() ? vector(p + "k_proj.bias", kv) : null,
                s.qkvBias() ? vector(p + "v_proj.bias", kv) : null, s.oBias() ? vector(p + "o_proj.bias", d) : null,
                qNorm, kNorm, s.qkNorm() == QkNorm.PER_HEAD,
                s.heads(), s.kvHeads(), hd, s.rope()[layer], s.attnScale(), s.attnSoftcap(), s.window()[layer]);
    }

    /** DeepSeek-V2 MLA: q directly or through a low-rank latent, keys and values from a shared latent. */
    private AttentionLayer latentAttention(String p, int layer) {
        MlaSpec m = s.mla();
        int d = s.hidden(), h = s.heads(), qk = m.nopeDim() + m.ropeDim();
        WeightMatrix qA = null, qB;
        Norm qNorm = null;
        float[] qABias = null;
        if (m.qLoraRank() == 0) {
            qB = matrix(p + "q_proj.weight", h * qk, d);
        } else {
            qA = matrix(p + "q_a_proj.weight", m.qLoraRank(), d);
            if (s.qkvBias()) qABias = vector(p + "q_a_proj.bias", m.qLoraRank());
            qNorm = latentNorm(p + "q_a_layernorm.weight", m.qLoraRank());
            qB = matrix(p + "q_b_proj.weight", h * qk, m.qLoraRank());
        }
        int kvA = m.kvLoraRank() + m.ropeDim();
        return new LatentAttention(qA, qABias, qNorm, qB,
                matrix(p + "kv_a_proj_with_mqa.weight", kvA, d), s.qkvBias() ? vector(p + "kv_a_proj_with_mqa.bias", kvA) : null,
                latentNorm(p + "kv_a_layernorm.weight", m.kvLoraRank()),
                matrix(p + "kv_b_proj.weight", h * (m.nopeDim() + m.valueDim()), m.kvLoraRank()),
                matrix(p + "o_proj.weight", d, h * m.valueDim()), s.oBias() ? vector(p + "o_proj.bias", d) : null,
                h, m.kvLoraRank(), m.nopeDim(), m.ropeDim(), m.valueDim(), s.rope()[layer], s.attnScale());
    }

    /** MLA's q and kv latent norms use eps 1e-6 whatever rms_norm_eps says (transformers builds them so). */
    private Norm latentNorm(String name, int n) { return new Norm(vector(name, n), 1e-6f, false); }

    private MlpLayer mlp(String p, int layer) {
        if (!s.isMoeLayer(layer)) return denseMlp(p, s.intermediate());
        MoeSpec m = s.moe();
        List<GatedMlp> experts = new ArrayList<>(m.experts());
        for (int e = 0; e < m.experts(); e++) experts.add(denseMlp(p + "experts." + e + ".", m.expertWidth()));
        GatedMlp shared = m.sharedExperts() == 0 ? null
                : denseMlp(p + "shared_experts.", m.expertWidth() * m.sharedExperts());
        return new MixtureOfExperts(matrix(p + "gate.weight", m.experts(), s.hidden()), experts, shared, m.topK(),
                m.routedScaling(), m.groupLimited() ? m.groups() : 1, m.groupLimited() ? m.topKGroups() : 1);
    }

    GatedMlp denseMlp(String p, int width) {
        int d = s.hidden();
        return new GatedMlp(matrix(p + "gate_proj.weight", width, d), matrix(p + "up_proj.weight", width, d),
                matrix(p + "down_proj.weight", d, width), s.act());
    }

    // ---- tensors, checked ---------------------------------------------------------------------------------

    private Tensor tensor(String name, long... shape) {
        if (!ck.contains(name)) {
            throw new IllegalArgumentException(ck.dir() + ": missing tensor '" + name + "' (expected shape "
                    + Arrays.toString(shape) + " for " + s.architecture() + ")");
        }
        Tensor t = ck.tensor(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(ck.dir() + ": tensor '" + name + "' has shape " + t.shapeString()
                    + " but config.json implies " + Arrays.toString(shape));
        }
        return t;
    }

    WeightMatrix matrix(String name, int rows, int cols) {
        Tensor t = tensor(name, rows, cols);
        return new WeightMatrix(t.data(), t.dtype(), rows, cols);
    }

    float[] vector(String name, int n) { return tensor(name, n).toFloatArray(); }

    Norm norm(String name, int n) { return new Norm(vector(name, n), s.eps(), s.normAddOne()); }
}
