package cgap.gap.study;

import cgap.engine.safetensors.SafetensorsWriter;
import cgap.kernels.DType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A tiny random Llama PT/IT pair for study tests: 2 layers, hidden 32, an embedding of 416 rows over the
 * repository's 403-id byte-level test tokenizer (so 13 padded rows the lens must mask), and that tokenizer's
 * ChatML-style chat template. The two models differ only in their random seed.
 */
final class TinyPair {
    static final int VOCAB = 416, HIDDEN = 32, FFN = 64, LAYERS = 2, HEADS = 4, KV_HEADS = 2;

    private TinyPair() {}

    static Path repoRoot() {
        String root = System.getProperty("cgap.repo.root");
        return root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize();
    }

    /** Writes dir/pt and dir/it; returns dir. */
    static Path write(Path dir) {
        writeModel(dir.resolve("pt"), 11);
        writeModel(dir.resolve("it"), 12);
        return dir;
    }

    static void writeModel(Path dir, long seed) {
        try {
            Files.createDirectories(dir);
            Path tokenizer = repoRoot().resolve("tests/fixtures/tokenizers/tiny-bytelevel");
            Files.copy(tokenizer.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
            Files.copy(tokenizer.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
            Files.writeString(dir.resolve("config.json"), """
                    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": %d,
                     "intermediate_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                     "num_key_value_heads": %d, "vocab_size": %d, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                     "max_position_embeddings": 256, "hidden_act": "silu", "tie_word_embeddings": false,
                     "bos_token_id": 0, "eos_token_id": 3, "torch_dtype": "float32"}
                    """.formatted(HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, VOCAB));
            Random rnd = new Random(seed);
            SafetensorsWriter w = new SafetensorsWriter(DType.F32);
            int headDim = HIDDEN / HEADS;
            w.add("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN}, gaussian(rnd, VOCAB * HIDDEN, 1.0));
            for (int i = 0; i < LAYERS; i++) {
                String p = "model.layers." + i + ".";
                w.add(p + "input_layernorm.weight", new long[] {HIDDEN}, ones(HIDDEN));
                w.add(p + "self_attn.q_proj.weight", new long[] {HEADS * headDim, HIDDEN}, gaussian(rnd, HEADS * headDim * HIDDEN, 0.3));
                w.add(p + "self_attn.k_proj.weight", new long[] {KV_HEADS * headDim, HIDDEN}, gaussian(rnd, KV_HEADS * headDim * HIDDEN, 0.3));
                w.add(p + "self_attn.v_proj.weight", new long[] {KV_HEADS * headDim, HIDDEN}, gaussian(rnd, KV_HEADS * headDim * HIDDEN, 0.3));
                w.add(p + "self_attn.o_proj.weight", new long[] {HIDDEN, HEADS * headDim}, gaussian(rnd, HIDDEN * HEADS * headDim, 0.3));
                w.add(p + "post_attention_layernorm.weight", new long[] {HIDDEN}, ones(HIDDEN));
                w.add(p + "mlp.gate_proj.weight", new long[] {FFN, HIDDEN}, gaussian(rnd, FFN * HIDDEN, 0.3));
                w.add(p + "mlp.up_proj.weight", new long[] {FFN, HIDDEN}, gaussian(rnd, FFN * HIDDEN, 0.3));
                w.add(p + "mlp.down_proj.weight", new long[] {HIDDEN, FFN}, gaussian(rnd, HIDDEN * FFN, 0.3));
            }
            w.add("model.norm.weight", new long[] {HIDDEN}, ones(HIDDEN));
            w.add("lm_head.weight", new long[] {VOCAB, HIDDEN}, gaussian(rnd, VOCAB * HIDDEN, 0.5));
            w.write(dir.resolve("model.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path writePrompts(Path file, int count) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < count; i++) {
            String q = "word " + i + " is what?";
            s.append("{\"id\": \"p").append(i).append("\", \"category\": \"").append(i % 2 == 0 ? "EVEN" : "ODD")
                    .append("\", \"formats\": {\"A\": \"").append(q).append("\", \"B\": \"Question: ").append(q)
                    .append("\\nAnswer:\"}}\n");
        }
        try {
            Files.writeString(file, s.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private static float[] gaussian(Random rnd, int n, double std) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * std);
        return x;
    }

    private static float[] ones(int n) {
        float[] x = new float[n];
        java.util.Arrays.fill(x, 1f);
        return x;
    }
}
