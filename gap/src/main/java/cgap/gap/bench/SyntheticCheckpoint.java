package cgap.gap.bench;

import cgap.engine.Tensor;
import cgap.engine.safetensors.SafetensorsWriter;
import cgap.kernels.DType;
import cgap.kernels.Parallel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random-weight BF16 checkpoints with the exact shapes of real models, generated in Java and cached under
 * ~/.cache/cgap/synthetic/NAME, so speed can be measured without downloading weights. Weights are uniform
 * with std 0.02 (norm weights at their neutral value): activations stay finite and of realistic magnitude;
 * the tokens they produce mean nothing.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {}

    /** A real model's shape: its config.json, as the hub has it. */
    public enum Shape {
        LLAMA_3_2_1B("llama-3.2-1b", """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "bfloat16",
                 "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 128256,
                 "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "hidden_act": "silu",
                 "rope_theta": 500000.0, "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": 128001,
                 "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                  "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
                """, false),
        GEMMA_2_2B("gemma-2-2b", """
                {"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2", "torch_dtype": "bfloat16",
                 "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
                 "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "vocab_size": 256000,
                 "max_position_embeddings": 8192, "rms_norm_eps": 1e-06, "hidden_activation": "gelu_pytorch_tanh",
                 "rope_theta": 10000.0, "query_pre_attn_scalar": 256, "sliding_window": 4096,
                 "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0, "tie_word_embeddings": true,
                 "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0}
                """, true);

        public final String id;
        final String config;
        final boolean sandwichNorms;

        Shape(String id, String config, boolean sandwichNorms) {
            this.id = id;
            this.config = config;
            this.sandwichNorms = sandwichNorms;
        }

        public static Shape byId(String id) {
            for (Shape s : values()) if (s.id.equals(id)) return s;
            throw new IllegalArgumentException("unknown synthetic shape '" + id + "' (known: "
                    + String.join(", ", Arrays.stream(values()).map(s -> s.id).toList()) + ")");
        }
    }

    public static Path cacheRoot() {
        return Path.of(System.getProperty("user.home"), ".cache", "cgap", "synthetic");
    }

    /** The checkpoint directory for {@code shape}, generating it first if it is not cached. */
    public static Path ensure(Shape shape) {
        Path dir = cacheRoot().resolve(shape.id);
        if (Files.isRegularFile(dir.resolve("model.safetensors")) && Files.isRegularFile(dir.resolve("config.json"))) {
            return dir;
        }
        try {
            Files.createDirectories(dir);
            System.err.println("generating a random " + shape.id + " checkpoint in " + dir + " (once)...");
            JsonNode c = new ObjectMapper().readTree(shape.config);
            int d = c.get("hidden_size").asInt(), f = c.get("intermediate_size").asInt();
            int heads = c.get("num_attention_heads").asInt(), kv = c.get("num_key_value_heads").asInt();
            int hd = c.get("head_dim").asInt();
            // Gemma's norms scale by (1 + w): neutral is 0 there, 1 elsewhere.
            float neutral = shape.sandwichNorms ? 0f : 1f;
            try (Arena arena = Arena.ofShared()) {
                List<Tensor> tensors = new ArrayList<>();
                SplittableRandom seeds = new SplittableRandom(20261125);
                tensors.add(random(arena, "model.embed_tokens.weight", seeds.nextLong(), c.get("vocab_size").asInt(), d));
                for (int i = 0; i < c.get("num_hidden_layers").asInt(); i++) {
                    String p = "model.layers." + i + ".";
                    tensors.add(random(arena, p + "self_attn.q_proj.weight", seeds.nextLong(), heads * hd, d));
                    tensors.add(random(arena, p + "self_attn.k_proj.weight", seeds.nextLong(), kv * hd, d));
                    tensors.add(random(arena, p + "self_attn.v_proj.weight", seeds.nextLong(), kv * hd, d));
                    tensors.add(random(arena, p + "self_attn.o_proj.weight", seeds.nextLong(), d, heads * hd));
                    tensors.add(random(arena, p + "mlp.gate_proj.weight", seeds.nextLong(), f, d));
                    tensors.add(random(arena, p + "mlp.up_proj.weight", seeds.nextLong(), f, d));
                    tensors.add(random(arena, p + "mlp.down_proj.weight", seeds.nextLong(), d, f));
                    tensors.add(constant(arena, p + "input_layernorm.weight", neutral, d));
                    tensors.add(constant(arena, p + "post_attention_layernorm.weight", neutral, d));
                    if (shape.sandwichNorms) {
                        tensors.add(constant(arena, p + "pre_feedforward_layernorm.weight", neutral, d));
                        tensors.add(constant(arena, p + "post_feedforward_layernorm.weight", neutral, d));
                    }
                }
                tensors.add(constant(arena, "model.norm.weight", neutral, d));
                SafetensorsWriter.writeAsStored(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
            }
            Files.writeString(dir.resolve("config.json"), shape.config);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write synthetic checkpoint in " + dir, e);
        }
    }

    /** BF16 uniform values in [-a, a] (std 0.02), filled in parallel, seeded per block of rows. */
    private static Tensor random(Arena arena, String name, long seed, int rows, int cols) {
        MemorySegment data = arena.allocate((long) rows * cols * 2, 64);
        float scale = 0.02f * (float) Math.sqrt(3) / (1 << 23);
        int block = 256;
        Parallel.forRange((rows + block - 1) / block, b -> {
            SplittableRandom rng = new SplittableRandom(seed + 0x9E3779B97F4A7C15L * b);
            long end = Math.min((long) (b + 1) * block, rows) * cols;
            for (long i = (long) b * block * cols; i < end; i++) {
                float v = (rng.nextInt() >> 8) * scale;
                data.set(ValueLayout.JAVA_SHORT_UNALIGNED, i * 2, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        });
        return new Tensor(name, DType.BF16, new long[] {rows, cols}, data);
    }

    private static Tensor constant(Arena arena, String name, float value, int n) {
        MemorySegment data = arena.allocate((long) n * 2, 64);
        short bits = (short) (Float.floatToRawIntBits(value) >>> 16);
        for (int i = 0; i < n; i++) data.set(ValueLayout.JAVA_SHORT_UNALIGNED, i * 2L, bits);
        return new Tensor(name, DType.BF16, new long[] {n}, data);
    }
}
