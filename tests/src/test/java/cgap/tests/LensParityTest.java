package cgap.tests;

import cgap.engine.safetensors.SafetensorsFile;
import cgap.gap.cli.LensCommand;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cgap lens} against HF transformers' logit lens on every fixture case (scripts/gen_hf_fixtures.py):
 * KL both ways and entropy within 5e-4 nats, top-1 and the final top-1's rank exact, except at near-ties the
 * fixture records (a readout whose top-1 and top-2 logits are within {@value #NEAR_TIE} of each other).
 */
class LensParityTest {
    static final double KL_TOLERANCE = 5e-4;
    static final double NEAR_TIE = 1e-4;

    @TempDir Path tmp;

    @TestFactory
    List<DynamicTest> everyCase() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path dir : Fixtures.hfCases()) {
            tests.add(DynamicTest.dynamicTest(dir.getFileName().toString(), () -> lensMatchesHf(dir)));
        }
        return tests;
    }

    void lensMatchesHf(Path dir) {
        JsonNode ref = Fixtures.json(dir.resolve("reference.json"));
        String tokens = Arrays.stream(Fixtures.ints(ref.get("tokens"))).mapToObj(Integer::toString).collect(Collectors.joining(","));
        Path out = tmp.resolve(dir.getFileName() + ".safetensors");
        int exit = new CommandLine(new LensCommand()).execute("--model", dir.toString(), "--tokens", tokens, "--out", out.toString());
        assertEquals(0, exit, "cgap lens exit code");
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(dir.resolve("reference.safetensors"))) {
            for (String name : List.of("lens.kl", "lens.kl_rev", "lens.entropy")) {
                assertArrayEquals(want.tensor(name).shape(), got.tensor(name).shape(), name + " shape");
                float[] g = got.tensor(name).toFloatArray(), w = want.tensor(name).toFloatArray();
                double worst = 0;
                for (int i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(g[i] - w[i]));
                assertTrue(worst <= KL_TOLERANCE, dir.getFileName() + " " + name + ": max |diff| " + worst + " nats");
            }
            long[] shape = want.tensor("lens.top1").shape();
            int T = (int) shape[1];
            int L = (int) shape[0] - 1;
            float[] margin = want.tensor("lens.top1_margin").toFloatArray();
            float[] gotTop1 = got.tensor("lens.top1").toFloatArray(), wantTop1 = want.tensor("lens.top1").toFloatArray();
            float[] gotRank = got.tensor("lens.final_top1_rank").toFloatArray(), wantRank = want.tensor("lens.final_top1_rank").toFloatArray();
            int compared = 0;
            for (int i = 0; i < wantTop1.length; i++) {
                boolean tie = margin[i] < NEAR_TIE || margin[L * T + i % T] < NEAR_TIE;
                if (tie) continue;
                compared++;
                assertEquals(wantTop1[i], gotTop1[i], dir.getFileName() + " top1 at readout " + i / T + " position " + i % T);
                assertEquals(wantRank[i], gotRank[i], dir.getFileName() + " final_top1_rank at readout " + i / T + " position " + i % T);
            }
            assertTrue(compared > wantTop1.length / 2, "most entries are not near-ties");
        }
    }
}
