package cgap.gap.lens;

import cgap.models.Model;

/** How many ids the lens scores for a model: the whole embedding unless a tokenizer says fewer ids are real. */
public final class LensVocab {
    private LensVocab() {}

    /** The model's vocabulary, cut to its tokenizer's size when the embedding carries padded rows beyond it. */
    public static int scoredVocab(Model m) {
        return m.transformer().vocab();
    }
}
