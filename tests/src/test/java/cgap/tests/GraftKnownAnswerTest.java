package cgap.tests;

import cgap.engine.Tensor;
import cgap.engine.graft.LayerWindow;
import cgap.engine.graft.MlpGraft;
import cgap.engine.runtime.Transformer;
import cgap.engine.safetensors.Checkpoint;
import cgap.engine.safetensors.SafetensorsWriter;
import cgap.gap.graft.GraftCompatibility;
import cgap.gap.graft.Intervention;
import cgap.models.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Known answers for MLP grafts. The "IT" checkpoint is a copy of a fixture whose MLP weights differ only in the
 * late layers (elements shuffled, dtype kept); grafting those layers' MLPs into the original must give the copy's
 * logits bit for bit (the same arithmetic on the same numbers), the reverse swap the original's, and grafting a
 * model into itself must change nothing.
 */
class GraftKnownAnswerTest {
    static final int[] TOKENS = {1, 17, 99, 3, 250, 42, 7, 128, 64, 5};

    /** Writes a copy of {@code source} to {@code dir} whose tensors matching {@code perturbed} have their elements shuffled. */
    static Path copyWithShuffled(Path source, Path dir, Predicate<String> perturbed) throws IOException {
        Files.createDirectories(dir);
        Files.copy(source.resolve("config.json"), dir.resolve("config.json"));
        try (Checkpoint ck = Checkpoint.open(source)) {
            List<Tensor> tensors = new ArrayList<>();
            Random random = new Random(2024);
            for (String name : ck.names()) {
                Tensor t = ck.tensor(name);
                tensors.add(perturbed.test(name) ? shuffled(t, random) : t);
            }
            SafetensorsWriter.writeAsStored(dir.resolve("model.safetensors"), tensors, Map.of());
        }
        return dir;
    }

    /**
     * Writes a deeper (and optionally wider-vocabulary) model built from {@code source}'s tensors: layer i of the copy
     * is source layer i % n, so the late-KL layers (j >= floor(0.8 n)) include some before the final one; embedding
     * and unembedding rows repeat the source's up to {@code vocab} rows, so a real tokenizer's ids fit.
     */
    static Path deepened(Path source, Path dir, int layers, int vocab) throws IOException {
        Files.createDirectories(dir);
        var config = (com.fasterxml.jackson.databind.node.ObjectNode) Fixtures.json(source.resolve("config.json"));
        int sourceLayers = config.get("num_hidden_layers").asInt();
        config.put("num_hidden_layers", layers);
        config.put("vocab_size", vocab);
        Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        try (Checkpoint ck = Checkpoint.open(source)) {
            List<Tensor> tensors = new ArrayList<>();
            for (String name : ck.names()) if (!name.contains(".layers.")) tensors.add(rowsRepeated(ck.tensor(name), vocab));
            for (int i = 0; i < layers; i++) {
                String from = ".layers." + (i % sourceLayers) + ".";
                for (String name : ck.names()) {
                    if (!name.contains(from)) continue;
                    Tensor t = ck.tensor(name);
                    tensors.add(new Tensor(name.replace(from, ".layers." + i + "."), t.dtype(), t.shape(), t.data()));
                }
            }
            SafetensorsWriter.writeAsStored(dir.resolve("model.safetensors"), tensors, Map.of());
        }
        return dir;
    }

    static Path deepened(Path source, Path dir, int layers) throws IOException {
        return deepened(source, dir, layers, (int) Fixtures.json(source.resolve("config.json")).get("vocab_size").asInt());
    }

    /** A vocabulary matrix [V, d] grown to [rows, d] by repeating its rows; other tensors unchanged. */
    private static Tensor rowsRepeated(Tensor t, int rows) {
        boolean vocabMatrix = t.name().endsWith("embed_tokens.weight") || t.name().equals("lm_head.weight");
        if (!vocabMatrix || t.dim(0) == rows) return t;
        byte[] source = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        byte[] out = new byte[(int) ((long) source.length / t.dim(0) * rows)];
        for (int at = 0; at < out.length; at += source.length) System.arraycopy(source, 0, out, at, Math.min(source.length, out.length - at));
        return new Tensor(t.name(), t.dtype(), new long[] {rows, t.dim(1)}, MemorySegment.ofArray(out));
    }

    /** The tensor with its elements in a random order: same dtype, same values, a different function. */
    static Tensor shuffled(Tensor t, Random random) {
        int size = t.dtype().bytes;
        byte[] bytes = t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        int n = bytes.length / size;
        byte[] out = new byte[bytes.length];
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        for (int i = 0; i < n; i++) System.arraycopy(bytes, order[i] * size, out, i * size, size);
        return new Tensor(t.name(), t.dtype(), t.shape(), MemorySegment.ofArray(out));
    }

    static Predicate<String> mlpOfLayers(LayerWindow window) {
        return name -> {
            for (int layer = window.first(); layer <= window.last(); layer++) if (name.contains("layers." + layer + ".mlp.")) return true;
            return false;
        };
    }

    static float[] logits(Transformer t) {
        return t.forward(TOKENS, t.newCache(), cgap.engine.hooks.HookRegistry.none(), Transformer.Logits.ALL);
    }

    /** Pre-norm (Llama, f32 and sharded bf16), sandwich norms (Gemma 3), post-norms only (OLMo 2), MoE (DeepSeek-V2). */
    @Test
    void graftingTheLateMlpsReproducesTheOtherCheckpointExactly(@TempDir Path tmp) throws IOException {
        for (String fixture : List.of("llama-f32", "llama-bf16", "gemma3-f32", "olmo2-bf16", "deepseek-v2-lite-f32")) {
            Path pt = Fixtures.hf().resolve(fixture);
            int layers = Fixtures.json(pt.resolve("config.json")).get("num_hidden_layers").asInt();
            LayerWindow late = LayerWindow.parse("late", layers), first = LayerWindow.parse("0", layers);
            Path it = copyWithShuffled(pt, tmp.resolve(fixture + "-it"), mlpOfLayers(late));
            try (Model ptModel = Model.load(pt); Model itModel = Model.load(it)) {
                float[] ptLogits = logits(ptModel.transformer()), itLogits = logits(itModel.transformer());
                assertFalse(java.util.Arrays.equals(ptLogits, itLogits), fixture + ": the copy must differ to test anything");

                assertArrayEquals(itLogits, logits(MlpGraft.swap(ptModel.transformer(), itModel.transformer(), late)),
                        fixture + ": IT late MLPs into the PT host give IT's logits");
                assertArrayEquals(ptLogits, logits(MlpGraft.swap(itModel.transformer(), ptModel.transformer(), late)),
                        fixture + ": PT late MLPs into the IT host give PT's logits");
                assertArrayEquals(ptLogits, logits(MlpGraft.swap(ptModel.transformer(), itModel.transformer(), first)),
                        fixture + ": a window where the MLPs are equal changes nothing");
            }
        }
    }

    /** DeepSeek-V2's layer 0 is dense, the rest MoE: the whole MoE block moves; dense and MoE never swap. */
    @Test
    void moeLayersMoveWholeAndNeverSwapWithDenseOnes() {
        try (Model m = Model.load(Fixtures.hf().resolve("deepseek-v2-lite-f32"))) {
            Transformer t = m.transformer();
            assertTrue(MlpGraft.movesWholeMoeBlocks(t, LayerWindow.parse("late", 3)));
            assertFalse(MlpGraft.movesWholeMoeBlocks(t, LayerWindow.parse("0", 3)));
            String message = assertThrows(IllegalArgumentException.class,
                    () -> MlpGraft.swapReversed(t, t, LayerWindow.parse("0-1", 3))).getMessage();
            assertTrue(message.contains("donor layer 1 into host layer 0") && message.contains("a mixture of experts"), message);
            assertSame(t.blocks().get(2).mlp(), MlpGraft.swapReversed(t, t, LayerWindow.parse("1-2", 3)).blocks().get(1).mlp(),
                    "MoE layers 1 and 2 trade places");
        }
    }

    @Test
    void identityGraftChangesNothing() {
        try (Model m = Model.load(Fixtures.hf().resolve("llama-f32"))) {
            Transformer t = m.transformer();
            for (String window : List.of("early", "mid", "late", "0-3")) {
                assertArrayEquals(logits(t), logits(Intervention.IDENTITY.apply(t, t, LayerWindow.parse(window, 4), 0)), window);
            }
        }
    }

    @Test
    void reversedGraftPlacesMirroredDonorLayers(@TempDir Path tmp) throws IOException {
        Path pt = Fixtures.hf().resolve("llama-f32");
        Path it = copyWithShuffled(pt, tmp.resolve("it"), mlpOfLayers(LayerWindow.parse("1-3", 4)));
        try (Model host = Model.load(pt); Model donor = Model.load(it)) {
            LayerWindow w = LayerWindow.parse("1-3", 4);
            Transformer reversed = Intervention.PERMUTE.apply(host.transformer(), donor.transformer(), w, 0);
            assertSame(donor.transformer().blocks().get(3).mlp(), reversed.blocks().get(1).mlp());
            assertSame(donor.transformer().blocks().get(2).mlp(), reversed.blocks().get(2).mlp());
            assertSame(donor.transformer().blocks().get(1).mlp(), reversed.blocks().get(3).mlp());
            assertSame(host.transformer().blocks().get(1).attention(), reversed.blocks().get(1).attention());
            assertSame(host.transformer().blocks().get(0).mlp(), reversed.blocks().get(0).mlp());
        }
    }

    @Test
    void randomControlsWithNoDifferenceChangeNothingAndOtherwiseMoveTheLogits(@TempDir Path tmp) throws IOException {
        Path pt = Fixtures.hf().resolve("llama-f32");
        Path it = copyWithShuffled(pt, tmp.resolve("it"), mlpOfLayers(LayerWindow.parse("2-3", 4)));
        try (Model host = Model.load(pt); Model donor = Model.load(it)) {
            LayerWindow late = LayerWindow.parse("late", 4), early = LayerWindow.parse("early", 4);
            float[] base = logits(host.transformer());
            for (Intervention control : List.of(Intervention.RANDOM_PROJ, Intervention.RANDOM_NORM)) {
                assertArrayEquals(base, logits(control.apply(host.transformer(), donor.transformer(), early, 5)),
                        control.label + ": donor == host in the early window, d = 0");
                float[] moved = logits(control.apply(host.transformer(), donor.transformer(), late, 5));
                assertFalse(java.util.Arrays.equals(base, moved), control.label);
                assertArrayEquals(moved, logits(control.apply(host.transformer(), donor.transformer(), late, 5)), "seeded: repeatable");
            }
        }
    }

    @Test
    void graftsAcrossShapesOrFamiliesAreRefused() {
        try (Model llama = Model.load(Fixtures.hf().resolve("llama-f32")); Model llama2 = Model.load(Fixtures.hf().resolve("llama2-f32"))) {
            String message = assertThrows(IllegalArgumentException.class, () -> GraftCompatibility.require(llama, llama2)).getMessage();
            assertTrue(message.contains("layers 4 vs 3") && message.contains("llama2-f32"), message);
            String engine = assertThrows(IllegalArgumentException.class,
                    () -> MlpGraft.swap(llama.transformer(), llama2.transformer(), LayerWindow.parse("0", 3))).getMessage();
            assertTrue(engine.contains("host hidden size 64 != donor hidden size 48"), engine);
        }
        // Same shapes, another family.
        try (Model llama = Model.load(Fixtures.hf().resolve("llama2-f32")); Model qwen = Model.load(Fixtures.hf().resolve("qwen3-f32"))) {
            String message = assertThrows(IllegalArgumentException.class, () -> GraftCompatibility.require(llama, qwen)).getMessage();
            assertTrue(message.contains("family llama vs qwen3"), message);
        }
    }
}
