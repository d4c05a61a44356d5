package cgap.tests;

import cgap.engine.safetensors.SafetensorsFile;
import cgap.engine.graft.LayerWindow;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --graft-from on cgap forward, generate and lens (and --edit on lens), on a PT fixture and an "IT" copy differing only in its late MLPs. */
class GraftCliTest {
    static final Path PT = Fixtures.hf().resolve("llama-f32");
    static final String TOKENS = "1,17,99,3,250,42,7";

    @TempDir static Path tmp;
    static Path it;

    @BeforeAll
    static void writeItCopy() throws IOException {
        it = GraftKnownAnswerTest.copyWithShuffled(PT, tmp.resolve("it"), GraftKnownAnswerTest.mlpOfLayers(LayerWindow.parse("late", 4)));
    }

    static float[] forwardLogits(String name, String... extra) {
        Path out = tmp.resolve(name + ".safetensors");
        String[] args = new String[6 + extra.length];
        System.arraycopy(new String[] {"forward", "--tokens", TOKENS, "--out", out.toString(), "--model"}, 0, args, 0, 6);
        System.arraycopy(extra, 0, args, 6, extra.length);
        CliTest.Run r = CliTest.cgap(args);
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            return f.tensor("logits").toFloatArray();
        }
    }

    @Test
    void forwardUnderAGraftGivesTheDonorsLogitsWhenOnlyThoseMlpsDiffer() {
        float[] itLogits = forwardLogits("it", it.toString());
        float[] ptLogits = forwardLogits("pt", PT.toString());
        assertArrayEquals(itLogits, forwardLogits("pt-graft", PT.toString(), "--graft-from", it.toString(), "--window", "late"));
        assertArrayEquals(ptLogits, forwardLogits("it-swap", it.toString(), "--graft-from", PT.toString(), "--window", "2-3", "--component", "mlp"));
    }

    /** Every lens.* tensor of {@code cgap lens --model DIR ...}, by name. */
    static Map<String, float[]> lens(String name, String... modelAndOptions) {
        Path out = tmp.resolve(name + ".lens.safetensors");
        List<String> args = new ArrayList<>(List.of("lens", "--tokens", TOKENS, "--out", out.toString(), "--model"));
        args.addAll(List.of(modelAndOptions));
        CliTest.Run r = CliTest.cgap(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        Map<String, float[]> tensors = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            for (String t : List.of("lens.kl", "lens.kl_rev", "lens.entropy", "lens.top1", "lens.final_top1_rank")) {
                tensors.put(t, f.tensor(t).toFloatArray());
            }
        }
        return tensors;
    }

    static void assertSameLens(Map<String, float[]> want, Map<String, float[]> got) {
        assertEquals(want.keySet(), got.keySet());
        for (String t : want.keySet()) assertArrayEquals(want.get(t), got.get(t), t);
    }

    @Test
    void lensUnderAGraftIsTheLensOfTheModelItMakes() {
        Map<String, float[]> ptLens = lens("pt", PT.toString()), itLens = lens("it", it.toString());
        assertFalse(Arrays.equals(ptLens.get("lens.kl"), itLens.get("lens.kl")), "the fixture pair must have different lenses to test anything");
        assertSameLens(ptLens, lens("pt-self", PT.toString(), "--graft-from", PT.toString(), "--window", "late"));
        assertSameLens(itLens, lens("pt-graft", PT.toString(), "--graft-from", it.toString(), "--window", "late"));
    }

    @Test
    void lensAppliesHookEdits() {
        // The pair differs only in the MLPs of layers 2-3; with those outputs zeroed both compute the same stream.
        String[] zeroLateMlps = {"--edit", "blocks.2.hook_mlp_out=zero", "--edit", "blocks.3.hook_mlp_out=zero"};
        Map<String, float[]> pt = lens("pt-edit", concat(PT.toString(), zeroLateMlps)), itEdited = lens("it-edit", concat(it.toString(), zeroLateMlps));
        assertSameLens(pt, itEdited);
        assertFalse(Arrays.equals(lens("pt", PT.toString()).get("lens.kl"), pt.get("lens.kl")), "the edit changes the lens");
    }

    static String[] concat(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @Test
    void generatePrintsTheGraftedContinuationBesideTheNativeOne() {
        CliTest.Run pt = CliTest.cgap("generate", "--model", PT.toString(), "--tokens", TOKENS, "--max-new-tokens", "12", "--ignore-eos", "--json");
        CliTest.Run itRun = CliTest.cgap("generate", "--model", it.toString(), "--tokens", TOKENS, "--max-new-tokens", "12", "--ignore-eos", "--json");
        CliTest.Run swap = CliTest.cgap("generate", "--model", it.toString(), "--graft-from", PT.toString(), "--window", "late",
                "--tokens", TOKENS, "--max-new-tokens", "12", "--ignore-eos", "--json");
        assertEquals(0, swap.exit(), swap.err());
        String nativeIt = list(itRun.out()), ptTokens = list(pt.out());
        assertNotEquals(nativeIt, ptTokens, "the fixture pair must generate differently to test anything");
        assertEquals("{\"native\": [" + nativeIt + "], \"grafted\": [" + ptTokens + "]}", swap.out().trim());

        CliTest.Run plain = CliTest.cgap("generate", "--model", it.toString(), "--graft-from", PT.toString(), "--window", "late",
                "--tokens", TOKENS, "--max-new-tokens", "12", "--ignore-eos");
        String[] lines = plain.out().strip().split("\n");
        assertEquals("native:  " + nativeIt.replace(" ", ""), lines[0]);
        assertTrue(lines[1].startsWith("grafted: " + ptTokens.replace(" ", "")) && lines[1].contains("layers 2-3"), lines[1]);
    }

    @Test
    void aMoeGraftSaysTheWholeBlockMoves() {
        Path deepseek = Fixtures.hf().resolve("deepseek-v2-lite-f32");
        CliTest.Run r = CliTest.cgap("generate", "--model", deepseek.toString(), "--graft-from", deepseek.toString(), "--window", "late",
                "--tokens", "1,2,3", "--max-new-tokens", "3", "--ignore-eos");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("the whole MoE block moves, router and shared experts included"), r.out());
        String[] lines = r.out().strip().split("\n");
        assertEquals(lines[0].substring("native:  ".length()), lines[1].substring("grafted: ".length()).split(" ")[0], "a self-graft changes nothing");
    }

    /** The token list inside {"tokens": [...]}. */
    static String list(String json) {
        String s = json.trim();
        return s.substring(s.indexOf('[') + 1, s.lastIndexOf(']'));
    }

    @Test
    void badGraftOptionsFailInOneLine() {
        CliTest.Run noDonor = CliTest.cgap("generate", "--model", PT.toString(), "--tokens", "1,2", "--window", "late");
        assertEquals(1, noDonor.exit());
        assertTrue(noDonor.err().contains("--window needs --graft-from"), noDonor.err());

        CliTest.Run family = CliTest.cgap("generate", "--model", Fixtures.hf().resolve("llama2-f32").toString(), "--tokens", "1,2",
                "--graft-from", Fixtures.hf().resolve("qwen3-f32").toString(), "--window", "late");
        assertEquals(1, family.exit());
        assertTrue(family.err().contains("family llama vs qwen3") && family.err().strip().lines().count() == 1, family.err());

        CliTest.Run window = CliTest.cgap("generate", "--model", PT.toString(), "--tokens", "1,2", "--graft-from", it.toString(), "--window", "3-9");
        assertEquals(1, window.exit());
        assertTrue(window.err().contains("3-9") && window.err().contains("0..3"), window.err());
    }
}
