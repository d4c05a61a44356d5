package cgap.gap.lens;

import cgap.models.Model;
import cgap.models.tokenizer.Tokenizer;

import java.nio.file.Files;

/** How many ids the lens scores for a model: the whole embedding unless its tokenizer says fewer ids are real. */
public final class LensVocab {
    private LensVocab() {}

    /**
     * The model's vocabulary, cut to its tokenizer's size when the model directory has a tokenizer.json and the
     * embedding carries padded rows beyond it (the contract masks those to -inf).
     */
    public static int scoredVocab(Model m) {
        int embedding = m.transformer().vocab();
        if (!Files.isRegularFile(m.dir().resolve("tokenizer.json"))) return embedding;
        return Math.min(embedding, Tokenizer.load(m.dir()).vocabSize());
    }
}
