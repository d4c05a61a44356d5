package cgap.gap.graft;

/**
 * One prompt of a graft run, already tokenized: as the host reads it (PT host: the PT format as raw text; IT host:
 * the IT format in the chat template) and as the teacher reads it (the IT model, in its chat template).
 */
public record GraftPrompt(String id, String category, int[] hostPrompt, int[] teacherPrompt) {
    public GraftPrompt {
        if (hostPrompt.length == 0 || teacherPrompt.length == 0) throw new IllegalArgumentException("prompt " + id + " encodes to no tokens");
    }
}
