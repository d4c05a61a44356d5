package cgap.tests;

import cgap.engine.Tensor;
import cgap.engine.safetensors.SafetensorsFile;
import cgap.gap.cli.Main;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cgap command line on the HF fixtures: outputs match the references; bad input fails in one clear line. */
class CliTest {
    static final Path LLAMA = Fixtures.hf().resolve("llama-f32");

    record Run(int exit, String out, String err) {}

    static synchronized Run cgap(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = Main.run(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String tokens(Path dir) {
        JsonNode ref = Fixtures.json(dir.resolve("reference.json"));
        return Arrays.stream(Fixtures.ints(ref.get("tokens"))).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Test
    void forwardWritesLogitsAndHooksMatchingHf(@TempDir Path tmp) {
        Path out = tmp.resolve("run.safetensors");
        Run r = cgap("forward", "--model", LLAMA.toString(), "--tokens", tokens(LLAMA), "--out", out.toString(),
                "--hooks", "blocks.*.hook_resid_post,ln_final.hook_normalized");
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(LLAMA.resolve("reference.safetensors"))) {
            assertTrue(got.names().contains("blocks.0.hook_resid_post") && got.names().contains("ln_final.hook_normalized"));
            assertFalse(got.names().contains("blocks.0.hook_resid_mid"), "only the selected hooks");
            for (String name : got.names()) {
                Tensor g = got.tensor(name), w = want.tensor(name);
                assertEquals(Arrays.toString(w.shape()), Arrays.toString(g.shape()), name);
                assertTrue(Fixtures.relativeError(g.toFloatArray(), w.toFloatArray(), (int) w.numel()) < 3e-5, name);
            }
        }
    }

    @Test
    void forwardWithEditMatchesHfEditRun(@TempDir Path tmp) throws IOException {
        JsonNode edit = Fixtures.json(LLAMA.resolve("reference.json")).get("edits").get(0);
        Path out = tmp.resolve("edit.safetensors");
        Run r = cgap("forward", "--model", LLAMA.toString(), "--tokens", tokens(LLAMA), "--out", out.toString(),
                "--edit", edit.get("specs").get(0).asText());
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(LLAMA.resolve("reference.safetensors"))) {
            Tensor w = want.tensor(edit.get("logits").asText());
            assertTrue(Fixtures.relativeError(got.tensor("logits").toFloatArray(), w.toFloatArray(), (int) w.numel()) < 3e-5);
        }
    }

    @Test
    void generatePrintsTheGreedyContinuation() {
        JsonNode gen = Fixtures.json(LLAMA.resolve("reference.json")).get("generate");
        String prompt = Arrays.stream(Fixtures.ints(gen.get("prompt"))).mapToObj(Integer::toString).collect(Collectors.joining(","));
        Run r = cgap("generate", "--model", LLAMA.toString(), "--tokens", prompt, "--max-new-tokens",
                gen.get("max_new_tokens").asText(), "--ignore-eos", "--json");
        assertEquals(0, r.exit(), r.err());
        String expected = Arrays.stream(Fixtures.ints(gen.get("continuation"))).mapToObj(Integer::toString).collect(Collectors.joining(", "));
        assertEquals("{\"tokens\": [" + expected + "]}", r.out().trim());
    }

    @Test
    void infoDescribesTheModel() {
        Run r = cgap("info", "--model", LLAMA.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("LlamaForCausalLM") && r.out().contains("Parameters:"), r.out());
    }

    @Test
    void missingDirectoryIsOneLineNamingIt() {
        Run r = cgap("generate", "--model", "/no/such/model", "--tokens", "1,2");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("/no/such/model") && r.err().strip().lines().count() == 1, r.err());
    }

    @Test
    void tokenOutOfRangeNamesTheToken() {
        Run r = cgap("generate", "--model", LLAMA.toString(), "--tokens", "1,999999");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("999999") && r.err().contains("position 1"), r.err());
    }

    @Test
    void truncatedWeightsNameTheFile(@TempDir Path tmp) throws IOException {
        Path dir = copyModel(tmp);
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, Arrays.copyOf(bytes, bytes.length / 2));
        Run r = cgap("info", "--model", dir.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("model.safetensors") && r.err().strip().lines().count() == 1, r.err());
    }

    @Test
    void configDisagreeingWithWeightsNamesTheTensor(@TempDir Path tmp) throws IOException {
        Path dir = copyModel(tmp);
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceFirst("\"intermediate_size\": *\\d+", "\"intermediate_size\": 7"));
        Run r = cgap("info", "--model", dir.toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("mlp.gate_proj.weight") && r.err().contains("[7,"), r.err());
    }

    @Test
    void badEditSpecIsExplained() {
        Run r = cgap("forward", "--model", LLAMA.toString(), "--tokens", "1,2", "--out", "/tmp/x.safetensors",
                "--edit", "blocks.0.hook_nothing=zero");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("unknown hook name 'blocks.0.hook_nothing'"), r.err());
    }

    private static Path copyModel(Path tmp) throws IOException {
        Path dir = tmp.resolve("model");
        Files.createDirectories(dir);
        for (String f : new String[] {"config.json", "model.safetensors"}) Files.copy(LLAMA.resolve(f), dir.resolve(f));
        return dir;
    }
}
