package cgap.gap.study;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptTest {
    @TempDir Path dir;

    @Test
    void readsThePapersFormAndThePlainForm() throws IOException {
        Path f = Files.writeString(dir.resolve("p.jsonl"), """
                {"id": "v2_X_0001", "category": "CONTENT-FACT", "formats": {"A": "What is 2+2?", "B": "Question: What is 2+2?\\nAnswer:"}, "expected_answer": "4"}

                {"id": 7, "prompt": "Hello"}
                """);
        List<Prompt> prompts = Prompt.read(f);
        assertEquals(2, prompts.size());
        assertEquals("CONTENT-FACT", prompts.get(0).category());
        assertEquals("Question: What is 2+2?\nAnswer:", prompts.get(0).text("B"));
        assertEquals("7", prompts.get(1).id());
        assertEquals("", prompts.get(1).category());
        assertEquals("Hello", prompts.get(1).text("A"));
        assertEquals("Hello", prompts.get(1).text("B"));
        IllegalArgumentException noC = assertThrows(IllegalArgumentException.class, () -> prompts.get(0).text("C"));
        assertTrue(noC.getMessage().contains("no format C"), noC.getMessage());
    }

    @Test
    void badLinesNameTheFileAndLine() throws IOException {
        Path dup = Files.writeString(dir.resolve("dup.jsonl"), "{\"id\": \"a\", \"prompt\": \"x\"}\n{\"id\": \"a\", \"prompt\": \"y\"}\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Prompt.read(dup)).getMessage().contains("dup.jsonl line 2: duplicate prompt id 'a'"));
        Path neither = Files.writeString(dir.resolve("neither.jsonl"), "{\"id\": \"a\", \"text\": \"x\"}\n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Prompt.read(neither)).getMessage().contains("neither.jsonl line 1: expected \"formats\""));
        Path notJson = Files.writeString(dir.resolve("bad.jsonl"), "{\"id\": \n");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Prompt.read(notJson)).getMessage().contains("bad.jsonl line 1: not JSON"));
    }
}
