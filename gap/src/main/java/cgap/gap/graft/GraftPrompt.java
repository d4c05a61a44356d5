package cgap.gap.graft;

import cgap.gap.study.Prompt;
import cgap.models.chat.ChatMessage;
import cgap.models.chat.ChatTemplate;
import cgap.models.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One prompt of a graft run, already tokenized: as the host reads it (PT host: the PT format as raw text; IT host:
 * the IT format in the chat template) and as the teacher reads it (the IT model, in its chat template).
 */
public record GraftPrompt(String id, String category, int[] hostPrompt, int[] teacherPrompt) {
    public GraftPrompt {
        if (hostPrompt.length == 0 || teacherPrompt.length == 0) throw new IllegalArgumentException("prompt " + id + " encodes to no tokens");
    }

    /** How the two checkpoints read prompts. {@code hostIsIt}: the host is the IT model (the teacher itself). */
    public record Encoding(Tokenizer hostTokenizer, Tokenizer itTokenizer, ChatTemplate itTemplate, boolean hostIsIt,
                           String ptFormat, String itFormat) {}

    /**
     * The first {@code limit} prompts of {@code file} (all when limit is 0; the study's {@link Prompt} format),
     * tokenized: the teacher reads the IT format in its chat template with the generation prompt; a PT host reads
     * the PT format as raw text (special tokens added, e.g. BOS), an IT host reads what the teacher reads.
     */
    public static List<GraftPrompt> read(Path file, int limit, Encoding e) {
        List<Prompt> prompts = Prompt.read(file);
        if (limit > 0 && limit < prompts.size()) prompts = prompts.subList(0, limit);
        List<GraftPrompt> tokenized = new ArrayList<>();
        for (Prompt p : prompts) {
            String itText, ptText;
            try {
                itText = p.text(e.itFormat());
                ptText = p.text(e.ptFormat());
            } catch (IllegalArgumentException missingFormat) {
                throw new IllegalArgumentException(file + ": " + missingFormat.getMessage());
            }
            int[] teacher = e.itTokenizer().encode(e.itTemplate().render(List.of(new ChatMessage("user", itText)), true), false);
            int[] host = e.hostIsIt() ? teacher : e.hostTokenizer().encode(ptText, true);
            tokenized.add(new GraftPrompt(p.id(), p.category(), host, teacher));
        }
        return tokenized;
    }
}
