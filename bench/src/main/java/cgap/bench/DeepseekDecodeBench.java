package cgap.bench;

import cgap.engine.Tensor;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.AttentionLayer;
import cgap.engine.runtime.Block;
import cgap.engine.runtime.ExpertRouting;
import cgap.engine.runtime.GatedMlp;
import cgap.engine.runtime.KvCache;
import cgap.engine.runtime.LatentAttention;
import cgap.engine.runtime.MixtureOfExperts;
import cgap.engine.runtime.MlpLayer;
import cgap.engine.runtime.Transformer;
import cgap.engine.safetensors.SafetensorsWriter;
import cgap.kernels.DType;
import cgap.kernels.MatMul;
import cgap.kernels.Parallel;
import cgap.kernels.WeightMatrix;
import cgap.models.Model;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Decode speed of a DeepSeek-V2-Lite-shaped model, and whether it reflects reading only the active experts.
 *
 * <p>The checkpoint is random BF16 with V2-Lite's real per-layer shapes (hidden 2048, 16 heads, kv_lora_rank 512,
 * q straight from q_proj, qk_nope 128 + qk_rope 64, v 128, 64 routed experts of width 1408 with top-6, 2 shared,
 * dense layer 0 of width 10944, vocab 102400, YaRN factor 40) but fewer layers (default 4: one dense, three MoE)
 * so it fits disk and time; the full model has 27. It is written once (one shard per layer, with an index) under
 * ~/.cache/cgap/synthetic/deepseek-v2-lite-shaped-{layers}L/ (4.5 GB for 4 layers, about 1.2 GB more per MoE layer).
 *
 * <p>Measured: greedy decode tokens/s after a short prefill, the bytes of weights each decode step actually reads
 * (every attention and norm weight, the dense MLP, each MoE layer's router, shared experts and the experts the
 * router chose for that token, the lm_head and one embedding row), that figure in GB/s, and the machine's read
 * bandwidth from a multi-threaded streaming sum for comparison. A decoder that read every expert would move the
 * "all experts" figure per token instead.
 *
 * <p>Run from the repository root:
 * <pre>
 *   mvn -q -B -pl bench -am package -DskipTests
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx6g \
 *        -cp gap/target/cgap.jar:bench/target/classes cgap.bench.DeepseekDecodeBench [--layers 4] [--steps 32]
 * </pre>
 * (threads: -Dcgap.threads=N; default all cores.)
 */
public final class DeepseekDecodeBench {
    // DeepSeek-V2-Lite's shapes.
    static final int HIDDEN = 2048, HEADS = 16, KV_LORA = 512, NOPE = 128, ROPE = 64, VALUE = 128;
    static final int EXPERTS = 64, TOP_K = 6, SHARED = 2, EXPERT_WIDTH = 1408, DENSE_WIDTH = 10944, VOCAB = 102400;
    static final int PROMPT = 16, WARMUP = 4;

    public static void main(String[] args) throws IOException {
        int layers = 4, steps = 32;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--layers" -> layers = Integer.parseInt(args[++i]);
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--layers N, --steps N)");
            }
        }
        if (layers < 2) throw new IllegalArgumentException("--layers must be at least 2 (one dense, one MoE)");
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "cgap", "synthetic",
                "deepseek-v2-lite-shaped-" + layers + "L");
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            long t0 = System.nanoTime();
            writeCheckpoint(dir, layers);
            System.out.printf(Locale.ROOT, "wrote %s in %.0f s%n", dir, (System.nanoTime() - t0) / 1e9);
        }

        double bandwidth = streamingReadGBs();
        try (Model model = Model.load(dir)) {
            Transformer t = model.transformer();
            long fileBytes = model.checkpoint().totalBytes();
            long fixedBytes = fixedBytesPerStep(t);
            long expertBytes = expertBytes(t);
            int moeLayers = (int) t.blocks().stream().filter(b -> b.mlp() instanceof MixtureOfExperts).count();

            // Count the experts each decode step really runs (distinct ids per MoE layer).
            long[] expertsRun = new long[1];
            HookRegistry hooks = new HookRegistry().listen(ExpertRouting.Listener.class, r -> {
                Set<Integer> distinct = new HashSet<>();
                for (int id : r.expertIds()) distinct.add(id);
                expertsRun[0] += distinct.size();
            });
            SplittableRandom random = new SplittableRandom(1);
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) prompt[i] = random.nextInt(VOCAB);
            touchAllWeights(t);
            KvCache cache = t.newCache();
            float[] logits = t.forward(prompt, cache, HookRegistry.none(), Transformer.Logits.LAST);
            for (int i = 0; i < WARMUP; i++) logits = t.forward(new int[] {argmax(logits)}, cache, HookRegistry.none(), Transformer.Logits.LAST);

            long start = System.nanoTime(), cpuStart = cpuNanos();
            double[] stepSeconds = new double[steps];
            for (int i = 0; i < steps; i++) {
                long stepStart = System.nanoTime();
                logits = t.forward(new int[] {argmax(logits)}, cache, hooks, Transformer.Logits.LAST);
                stepSeconds[i] = (System.nanoTime() - stepStart) / 1e9;
            }
            double seconds = (System.nanoTime() - start) / 1e9, cpuSeconds = (cpuNanos() - cpuStart) / 1e9;
            java.util.Arrays.sort(stepSeconds);
            double medianStep = stepSeconds[steps / 2];

            double tokensPerSecond = steps / seconds;
            double readPerToken = fixedBytes + (double) expertsRun[0] / steps * expertBytes;
            double allExpertsPerToken = fixedBytes + (double) moeLayers * EXPERTS * expertBytes;
            System.out.printf(Locale.ROOT, "DeepSeek-V2-Lite-shaped, %d layers (1 dense + %d MoE; the real model has 27), BF16, %d threads%n",
                    layers, moeLayers, Parallel.threads());
            System.out.printf(Locale.ROOT, "checkpoint:                %.2f GB on disk%n", fileBytes / 1e9);
            System.out.printf(Locale.ROOT, "weights read per token:    %.3f GB (%.1f experts per MoE layer of %d; all experts would be %.2f GB)%n",
                    readPerToken / 1e9, (double) expertsRun[0] / steps / moeLayers, EXPERTS, allExpertsPerToken / 1e9);
            System.out.printf(Locale.ROOT, "decode:                    %.2f tokens/s over %d steps after a %d-token prompt (median step: %.2f tokens/s)%n",
                    tokensPerSecond, steps, PROMPT, 1 / medianStep);
            System.out.printf(Locale.ROOT, "weights actually read:     %.1f GB/s (median step: %.1f GB/s)%n",
                    readPerToken * tokensPerSecond / 1e9, readPerToken / medianStep / 1e9);
            System.out.printf(Locale.ROOT, "machine read bandwidth:    %.1f GB/s (streaming sum, best of 5) -> %.0f%% of it%n",
                    bandwidth, 100 * readPerToken * tokensPerSecond / 1e9 / bandwidth);
            double[] kernel = matmulReadGBs(t);
            System.out.printf(Locale.ROOT, "matmul kernel alone:       %.1f GB/s (T=1 over every expert of one MoE layer, best of 3) -> decode reaches %.0f%% of it%n",
                    kernel[0], 100 * readPerToken * tokensPerSecond / 1e9 / kernel[0]);
            System.out.printf(Locale.ROOT, "per CPU-second:            decode %.2f GB, kernel alone %.2f GB (process CPU time, so a busy machine matters less)%n",
                    readPerToken * steps / cpuSeconds / 1e9, kernel[1]);
            System.out.printf(Locale.ROOT, "ceilings, tokens/s:        active experts only %.2f, every expert %.2f (at the kernel-alone rate); %.2f and %.2f (at the streaming rate)%n",
                    kernel[0] * 1e9 / readPerToken, kernel[0] * 1e9 / allExpertsPerToken,
                    bandwidth * 1e9 / readPerToken, bandwidth * 1e9 / allExpertsPerToken);
        }
    }

    // ---- bytes a decode step reads --------------------------------------------------------------------------

    /** Everything but the routed experts: attention, norms, dense MLPs, routers, shared experts, lm_head, one embedding row. */
    static long fixedBytesPerStep(Transformer t) {
        long bytes = t.unembedding().rows() * rowBytes(t.unembedding()) + rowBytes(t.embedding());
        bytes += 4L * t.finalNorm().dim();
        for (Block b : t.blocks()) {
            bytes += 4L * (b.attnNorm().dim() + b.mlpNorm().dim());
            AttentionLayer a = b.attention();
            if (!(a instanceof LatentAttention mla)) throw new IllegalStateException("expected latent attention, got " + a);
            bytes += bytes(mla.qA()) + bytes(mla.qB()) + bytes(mla.kvA()) + bytes(mla.kvB()) + bytes(mla.wo());
            bytes += 4L * (mla.kvNorm().dim() + (mla.qNorm() == null ? 0 : mla.qNorm().dim()));
            MlpLayer mlp = b.mlp();
            if (mlp instanceof MixtureOfExperts moe) bytes += bytes(moe.router()) + bytes(moe.shared());
            else bytes += bytes((GatedMlp) mlp);
        }
        return bytes;
    }

    /** Bytes of one routed expert (all experts have the same shape). */
    static long expertBytes(Transformer t) {
        for (Block b : t.blocks()) if (b.mlp() instanceof MixtureOfExperts moe) return bytes(moe.experts().getFirst());
        throw new IllegalStateException("no MoE layer");
    }

    static long bytes(GatedMlp m) { return bytes(m.gate()) + bytes(m.up()) + bytes(m.down()); }

    static long bytes(WeightMatrix w) { return w == null ? 0 : w.rows() * rowBytes(w); }

    static long rowBytes(WeightMatrix w) { return (long) w.cols() * w.dtype().bytes; }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    // ---- machine bandwidth ------------------------------------------------------------------------------------

    /**
     * GB/s the BF16 matmul kernel reaches for one token (decode) on this machine right now: all experts of the
     * first MoE layer (about 1.1 GB, more than any cache), best of 3 passes; and GB per CPU-second. What decode
     * could reach at best.
     */
    static double[] matmulReadGBs(Transformer t) {
        MixtureOfExperts moe = (MixtureOfExperts) t.blocks().stream().map(Block::mlp)
                .filter(m -> m instanceof MixtureOfExperts).findFirst().orElseThrow();
        double best = 0, bestPerCpu = 0;
        for (int pass = 0; pass < 3; pass++) {
            long start = System.nanoTime(), cpuStart = cpuNanos(), bytes = 0;
            for (GatedMlp e : moe.experts()) bytes += readOnce(e);
            best = Math.max(best, bytes / ((System.nanoTime() - start) / 1e9) / 1e9);
            bestPerCpu = Math.max(bestPerCpu, bytes / ((cpuNanos() - cpuStart) / 1e9) / 1e9);
        }
        return new double[] {best, bestPerCpu};
    }

    /** CPU time of the whole process (all threads), in ns. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /**
     * Runs every weight of the model through the matmul kernel once, so the timed decode finds the checkpoint in
     * the page cache and mapped into this process: without it the first steps mostly pay page faults, which a
     * long generation pays once.
     */
    static void touchAllWeights(Transformer t) {
        readOnce(t.unembedding());
        for (Block b : t.blocks()) {
            LatentAttention a = (LatentAttention) b.attention();
            for (WeightMatrix w : new WeightMatrix[] {a.qA(), a.qB(), a.kvA(), a.kvB(), a.wo()}) if (w != null) readOnce(w);
            if (b.mlp() instanceof MixtureOfExperts moe) {
                readOnce(moe.router());
                readOnce(moe.shared());
                for (GatedMlp e : moe.experts()) readOnce(e);
            } else {
                readOnce((GatedMlp) b.mlp());
            }
        }
    }

    static long readOnce(GatedMlp m) { return readOnce(m.gate()) + readOnce(m.up()) + readOnce(m.down()); }

    /** One T=1 matmul over w (the decode access pattern); returns the bytes it read. */
    static long readOnce(WeightMatrix w) {
        float[] x = new float[w.cols()];
        java.util.Arrays.fill(x, 0.01f);
        MatMul.matmul(x, 1, w, new float[w.rows()]);
        return bytes(w);
    }

    /** Best of 5 multi-threaded passes summing a 2 GiB off-heap buffer as longs, in GB/s. */
    static double streamingReadGBs() {
        long size = 2L << 30;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(size, 64);
            int chunk = 1 << 20, chunks = (int) (size / chunk);
            Parallel.forChunks(chunks, 1, (c0, c1) -> buffer.asSlice((long) c0 * chunk, (long) (c1 - c0) * chunk).fill((byte) 1));
            long[] sink = new long[chunks];
            double best = 0;
            for (int pass = 0; pass < 5; pass++) {
                long start = System.nanoTime();
                Parallel.forChunks(chunks, 1, (c0, c1) -> {
                    for (int c = c0; c < c1; c++) {
                        long sum = 0, base = (long) c * chunk;
                        for (long o = 0; o < chunk; o += 8) sum += buffer.get(ValueLayout.JAVA_LONG, base + o);
                        sink[c] = sum;
                    }
                });
                best = Math.max(best, size / ((System.nanoTime() - start) / 1e9) / 1e9);
            }
            long check = 0;
            for (long s : sink) check += s;
            if (check != (size / 8) * 0x0101010101010101L) throw new IllegalStateException("bandwidth probe read wrong data");
            return best;
        }
    }

    // ---- the synthetic checkpoint -----------------------------------------------------------------------------

    /** Random BF16 weights with std 1/sqrt(fan_in) (norms near 1), one shard per layer, an index and config.json. */
    static void writeCheckpoint(Path dir, int layers) throws IOException {
        Files.createDirectories(dir);
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        total += shard(dir, "model-embed.safetensors", weightMap, List.of(
                random("model.embed_tokens.weight", 1.0, VOCAB, HIDDEN)));
        for (int i = 0; i < layers; i++) {
            String p = "model.layers." + i + ".";
            List<Tensor> tensors = new ArrayList<>(List.of(
                    norm(p + "input_layernorm.weight", HIDDEN), norm(p + "post_attention_layernorm.weight", HIDDEN),
                    linear(p + "self_attn.q_proj.weight", HEADS * (NOPE + ROPE), HIDDEN),
                    linear(p + "self_attn.kv_a_proj_with_mqa.weight", KV_LORA + ROPE, HIDDEN),
                    norm(p + "self_attn.kv_a_layernorm.weight", KV_LORA),
                    linear(p + "self_attn.kv_b_proj.weight", HEADS * (NOPE + VALUE), KV_LORA),
                    linear(p + "self_attn.o_proj.weight", HIDDEN, HEADS * VALUE)));
            if (i == 0) {
                tensors.addAll(mlp(p + "mlp.", DENSE_WIDTH));
            } else {
                tensors.add(linear(p + "mlp.gate.weight", EXPERTS, HIDDEN));
                for (int e = 0; e < EXPERTS; e++) tensors.addAll(mlp(p + "mlp.experts." + e + ".", EXPERT_WIDTH));
                tensors.addAll(mlp(p + "mlp.shared_experts.", EXPERT_WIDTH * SHARED));
            }
            total += shard(dir, "model-layer-" + i + ".safetensors", weightMap, tensors);
        }
        total += shard(dir, "model-head.safetensors", weightMap, List.of(
                norm("model.norm.weight", HIDDEN), linear("lm_head.weight", VOCAB, HIDDEN)));

        StringBuilder index = new StringBuilder("{\"metadata\": {\"total_size\": " + total + "}, \"weight_map\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            index.append(sep).append("\"").append(e.getKey()).append("\": \"").append(e.getValue()).append("\"");
            sep = ",\n";
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), index.append("\n}}\n"));
        // config.json last: its presence marks a complete checkpoint. Hub (legacy) dialect, as V2-Lite ships it.
        Files.writeString(dir.resolve("config.json"), """
                {"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2", "torch_dtype": "bfloat16",
                 "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d, "num_key_value_heads": %d,
                 "intermediate_size": %d, "vocab_size": %d, "max_position_embeddings": 163840, "rms_norm_eps": 1e-6,
                 "hidden_act": "silu", "tie_word_embeddings": false, "attention_bias": false, "bos_token_id": 100000,
                 "eos_token_id": 100001, "q_lora_rank": null, "kv_lora_rank": %d, "qk_nope_head_dim": %d,
                 "qk_rope_head_dim": %d, "v_head_dim": %d, "n_routed_experts": %d, "num_experts_per_tok": %d,
                 "n_shared_experts": %d, "moe_intermediate_size": %d, "first_k_dense_replace": 1, "moe_layer_freq": 1,
                 "routed_scaling_factor": 1.0, "topk_method": "greedy", "n_group": 1, "topk_group": 1,
                 "norm_topk_prob": false, "scoring_func": "softmax", "rope_theta": 10000,
                 "rope_scaling": {"type": "yarn", "factor": 40, "beta_fast": 32, "beta_slow": 1, "mscale": 0.707,
                                  "mscale_all_dim": 0.707, "original_max_position_embeddings": 4096}}
                """.formatted(HIDDEN, layers, HEADS, HEADS, DENSE_WIDTH, VOCAB, KV_LORA, NOPE, ROPE, VALUE, EXPERTS,
                TOP_K, SHARED, EXPERT_WIDTH));
    }

    static long shard(Path dir, String file, Map<String, String> weightMap, List<Tensor> tensors) {
        SafetensorsWriter.writeAsStored(dir.resolve(file), tensors, Map.of("format", "pt"));
        long bytes = 0;
        for (Tensor t : tensors) {
            weightMap.put(t.name(), file);
            bytes += t.data().byteSize();
        }
        return bytes;
    }

    static List<Tensor> mlp(String p, int width) {
        return List.of(linear(p + "gate_proj.weight", width, HIDDEN), linear(p + "up_proj.weight", width, HIDDEN),
                linear(p + "down_proj.weight", HIDDEN, width));
    }

    static Tensor linear(String name, int rows, int cols) { return random(name, 1 / Math.sqrt(cols), rows, cols); }

    static Tensor norm(String name, int n) {
        short[] values = new short[n];
        SplittableRandom random = new SplittableRandom(name.hashCode());
        for (int i = 0; i < n; i++) values[i] = bf16(1 + 0.1f * (2 * random.nextFloat() - 1));
        return new Tensor(name, DType.BF16, new long[] {n}, MemorySegment.ofArray(values));
    }

    /** Uniform values with the given standard deviation, rounded down to BF16, filled in parallel and seeded by name. */
    static Tensor random(String name, double std, int rows, int cols) {
        short[] values = new short[Math.multiplyExact(rows, cols)];
        float halfWidth = (float) (std * Math.sqrt(3));
        long seed = name.hashCode();
        int chunk = 1 << 16;
        Parallel.forChunks(values.length, chunk, (start, end) -> {
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + start);
            for (int i = start; i < end; i++) values[i] = bf16(halfWidth * (2 * random.nextFloat() - 1));
        });
        return new Tensor(name, DType.BF16, new long[] {rows, cols}, MemorySegment.ofArray(values));
    }

    static short bf16(float x) { return (short) (Float.floatToRawIntBits(x) >>> 16); }

    private DeepseekDecodeBench() {}
}
