package cgap.tests;

import cgap.engine.Tensor;
import cgap.engine.hooks.ActivationCache;
import cgap.engine.hooks.HookEdit;
import cgap.engine.hooks.HookName;
import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Generator;
import cgap.engine.runtime.KvCache;
import cgap.engine.runtime.Transformer;
import cgap.engine.safetensors.SafetensorsFile;
import cgap.models.Model;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every family against HF transformers: each hook within 3e-5 of the reference relative to the tensor's max
 * |value|, identical greedy continuations, matching hook-edit runs, and decode steps equal to the prefill.
 * The references come from scripts/gen_hf_fixtures.py (tests/fixtures/hf/CASE).
 */
class HfParityTest {
    static final double TOLERANCE = 3e-5;

    @TestFactory
    List<DynamicNode> everyCase() {
        List<DynamicNode> cases = new ArrayList<>();
        for (Path dir : Fixtures.hfCases()) {
            cases.add(DynamicContainer.dynamicContainer(dir.getFileName().toString(), List.of(
                    DynamicTest.dynamicTest("hooks match HF", () -> hooksMatch(dir)),
                    DynamicTest.dynamicTest("greedy continuation matches HF", () -> greedyMatches(dir)),
                    DynamicTest.dynamicTest("hook edits match HF", () -> editsMatch(dir)),
                    DynamicTest.dynamicTest("decode steps equal prefill", () -> decodeMatchesPrefill(dir)))));
        }
        return cases;
    }

    static void hooksMatch(Path dir) {
        JsonNode ref = Fixtures.json(dir.resolve("reference.json"));
        int[] tokens = Fixtures.ints(ref.get("tokens"));
        try (Model m = Model.load(dir); SafetensorsFile expected = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
            Transformer t = m.transformer();
            List<HookName> names = new ArrayList<>();
            ref.get("hooks").forEach(n -> names.add(HookName.parse(n.asText())));
            assertEquals(Set.copyOf(t.hookNames()), Set.copyOf(names), "the model's hook points are the ones HF recorded");
            HookRegistry hooks = new HookRegistry();
            ActivationCache cache = new ActivationCache().watch(hooks, names);
            t.forward(tokens, t.newCache(), hooks, Transformer.Logits.ALL);
            List<String> failures = new ArrayList<>();
            double worst = 0;
            String worstName = "";
            for (HookName name : names) {
                Tensor want = expected.tensor(name.toString());
                ActivationCache.Recorded got = cache.get(name);
                assertNotNull(got, name + " fired");
                assertArrayEquals(want.shape(), got.shape(), name + " shape");
                double err = name.point() == HookPoint.TOPK_IDS
                        ? (Arrays.equals(sortedRows(got.data(), got.cols()), sortedRows(want.toFloatArray(), got.cols())) ? 0 : 1)
                        : Fixtures.relativeError(got.data(), want.toFloatArray(), (int) want.numel());
                if (err > TOLERANCE) failures.add(name + " rel err " + err);
                if (err > worst) { worst = err; worstName = name.toString(); }
            }
            System.out.printf("%-22s worst hook rel err %.2e (%s)%n", dir.getFileName(), worst, worstName);
            assertTrue(failures.isEmpty(), dir.getFileName() + ": " + failures);
        }
    }

    /**
     * Each row's expert ids in increasing order. HF's top-k ids come from torch.topk(sorted=False), whose order
     * within a row is arbitrary (std::nth_element on CPU); the engine lists them by descending probability. The
     * chosen set is what must match.
     */
    static float[] sortedRows(float[] ids, int k) {
        float[] sorted = ids.clone();
        for (int r = 0; r + k <= sorted.length; r += k) Arrays.sort(sorted, r, r + k);
        return sorted;
    }

    static void greedyMatches(Path dir) {
        JsonNode gen = Fixtures.json(dir.resolve("reference.json")).get("generate");
        try (Model m = Model.load(dir)) {
            int[] got = Generator.greedy(m.transformer(), Fixtures.ints(gen.get("prompt")),
                    gen.get("max_new_tokens").asInt(), Set.of(), HookRegistry.none(), id -> {});
            assertArrayEquals(Fixtures.ints(gen.get("continuation")), got);
        }
    }

    static void editsMatch(Path dir) {
        JsonNode ref = Fixtures.json(dir.resolve("reference.json"));
        int[] tokens = Fixtures.ints(ref.get("tokens"));
        try (Model m = Model.load(dir); SafetensorsFile expected = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
            Transformer t = m.transformer();
            assertTrue(ref.get("edits").size() >= 3, "fixture has edit runs");
            for (JsonNode edit : ref.get("edits")) {
                HookRegistry hooks = new HookRegistry();
                edit.get("specs").forEach(spec -> HookEdit.parse(spec.asText(), dir).register(hooks));
                float[] logits = t.forward(tokens, t.newCache(), hooks, Transformer.Logits.ALL);
                Tensor want = expected.tensor(edit.get("logits").asText());
                double err = Fixtures.relativeError(logits, want.toFloatArray(), (int) want.numel());
                assertTrue(err <= TOLERANCE, edit.get("name").asText() + ": logits rel err " + err);
            }
        }
    }

    /** Prefill all but the last 4 tokens, then feed those one at a time: logits and residuals must agree. */
    static void decodeMatchesPrefill(Path dir) {
        JsonNode ref = Fixtures.json(dir.resolve("reference.json"));
        int[] tokens = Fixtures.ints(ref.get("tokens"));
        try (Model m = Model.load(dir); SafetensorsFile expected = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
            Transformer t = m.transformer();
            HookName lastResid = HookName.of(HookPoint.RESID_POST, t.layers() - 1);
            HookRegistry hooks = new HookRegistry();
            ActivationCache cache = new ActivationCache().watch(hooks, List.of(lastResid, HookName.of(HookPoint.LOGITS)));
            KvCache kv = t.newCache();
            int split = tokens.length - 4;
            t.forward(Arrays.copyOf(tokens, split), kv, hooks, Transformer.Logits.ALL);
            for (int p = split; p < tokens.length; p++) t.forward(new int[] {tokens[p]}, kv, hooks, Transformer.Logits.ALL);
            for (HookName name : List.of(lastResid, HookName.of(HookPoint.LOGITS))) {
                Tensor want = expected.tensor(name.toString());
                ActivationCache.Recorded got = cache.get(name);
                assertEquals(tokens.length, got.rows(), name + " rows across prefill + decode");
                double err = Fixtures.relativeError(got.data(), want.toFloatArray(), (int) want.numel());
                assertTrue(err <= TOLERANCE, name + " after decode steps: rel err " + err);
            }
        }
    }
}
