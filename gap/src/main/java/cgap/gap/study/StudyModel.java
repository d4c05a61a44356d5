package cgap.gap.study;

import cgap.engine.runtime.Transformer;
import cgap.gap.lens.LensVocab;
import cgap.models.Model;
import cgap.models.tokenizer.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/** One side of the pair, loaded: the model, its tokenizer, the ids its lens scores, the ids that end generation. */
public final class StudyModel implements AutoCloseable {
    public final String name;
    public final Model model;
    public final Tokenizer tokenizer;
    public final int scoredVocab;
    public final Set<Integer> eosIds;

    private StudyModel(String name, Model model, Tokenizer tokenizer) {
        this.name = name;
        this.model = model;
        this.tokenizer = tokenizer;
        this.scoredVocab = LensVocab.scoredVocab(model);
        Set<Integer> eos = new TreeSet<>(model.eosIds());
        eos.addAll(tokenizer.eosIds());
        this.eosIds = Set.copyOf(eos);
    }

    /** Loads a Hugging Face model directory, which must hold a tokenizer.json (the study reads text prompts). */
    public static StudyModel load(String name, Path dir) {
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            throw new IllegalArgumentException("--" + name + " " + dir + ": no tokenizer.json (the study tokenizes text prompts)");
        }
        Model model = Model.load(dir);
        try {
            return new StudyModel(name, model, Tokenizer.load(dir));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public Transformer transformer() { return model.transformer(); }

    public int layers() { return model.transformer().layers(); }

    @Override
    public void close() { model.close(); }
}
