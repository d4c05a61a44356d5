package cgap.tests;

import cgap.gap.cli.DemoCommand;
import cgap.gap.study.StepRecord;
import cgap.gap.study.StepsFile;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole pipeline against HF in Python, prompt by prompt, on the embedded demo pair: tokenizer, chat
 * template, greedy decoding and the logit lens. demo/crosscheck_all.json holds what transformers produced
 * (demo/check_demo.py): each prompt's generated ids and its mean KL curve, for PT (format B, raw) and IT
 * (format A in the chat template).
 */
class DemoCrossCheckTest {
    static final int PROMPTS = 10;

    @Test
    void demoMatchesTheHfCrossCheck(@TempDir Path cache, @TempDir Path out) {
        JsonNode reference = Fixtures.json(Fixtures.repoRoot().resolve("demo/crosscheck_all.json"));
        PrintStream original = System.out;
        try {
            System.setOut(new PrintStream(new ByteArrayOutputStream()));
            int exit = new CommandLine(new DemoCommand()).execute("--cache", cache.toString(), "--out", out.toString(),
                    "--limit", Integer.toString(PROMPTS), "--max-new-tokens", reference.get("max_new_tokens").asText());
            assertEquals(0, exit);
        } finally {
            System.setOut(original);
        }
        List<StepRecord> steps = new StepsFile(out.resolve("steps.jsonl")).readAll(StepRecord.class);
        int checked = 0;
        for (String model : List.of("pt", "it")) {
            String regime = model.equals("pt") ? "pt_raw" : "it_native";
            Map<String, List<StepRecord>> own = steps.stream()
                    .filter(s -> s.model().equals(model) && s.regime().equals(regime) && s.history().equals("own"))
                    .collect(Collectors.groupingBy(StepRecord::promptId));
            for (JsonNode p : reference.get(model).get("per_prompt")) {
                List<StepRecord> mine = own.get(p.get("id").asText());
                if (mine == null) continue; // beyond --limit
                mine = new ArrayList<>(mine);
                mine.sort((a, b) -> Integer.compare(a.step(), b.step()));
                int[] tokens = mine.stream().mapToInt(StepRecord::token).toArray();
                assertArrayEquals(Fixtures.ints(p.get("generated_ids")), tokens, model + " " + p.get("id").asText() + " greedy ids");
                JsonNode curve = p.get("kl_curve");
                for (int l = 0; l < curve.size(); l++) {
                    double mean = 0;
                    for (StepRecord s : mine) mean += s.kl()[l];
                    mean /= mine.size();
                    assertEquals(curve.get(l).asDouble(), mean, 1e-3, model + " " + p.get("id").asText() + " mean KL at readout " + l);
                }
                checked++;
            }
        }
        assertEquals(2 * PROMPTS, checked, "every demo prompt of both models compared");
        assertTrue(steps.size() > 0);
    }
}
