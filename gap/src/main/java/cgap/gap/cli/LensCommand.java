package cgap.gap.cli;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Transformer;
import cgap.engine.safetensors.SafetensorsWriter;
import cgap.gap.lens.LensMetrics;
import cgap.gap.lens.LensVocab;
import cgap.gap.lens.LogitLens;
import cgap.kernels.DType;
import cgap.models.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code cgap lens}: the logit lens of a token sequence, every readout at every position, as a safetensors file. */
@Command(name = "lens", description = {
        "Logit lens of a token sequence: lens.kl, lens.kl_rev, lens.entropy, lens.top1, lens.final_top1_rank,",
        "each [L+1, T] F32 (readout 0 = embeddings, readout L = the final logits), as the hook contract defines them.",
        "With --graft-from/--window the model runs with another checkpoint's MLPs; --edit applies hook edits."})
public final class LensCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR") Path model;
    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Comma-separated token ids.") String tokens;
    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output .safetensors file (written atomically).") Path out;
    @Option(names = "--readout", defaultValue = "raw", paramLabel = "KIND",
            description = "Readout of each layer: raw (the model's own final norm and unembedding). Default: ${DEFAULT-VALUE}.")
    String readout;
    @Mixin EditOptions edits;
    @Mixin GraftOptions graft;

    @Override
    public Integer call() {
        if (!readout.equals("raw")) throw new IllegalArgumentException("--readout '" + readout + "': only 'raw' is available");
        int[] ids = Tokens.parse(tokens);
        try (Model m = Model.load(model); GraftOptions.Grafted g = graft.open(m)) {
            Transformer t = g.transformer();
            if (g.description() != null) System.err.println("graft: " + g.description());
            Tokens.checkRange(ids, t.vocab());
            HookRegistry hooks = new HookRegistry();
            edits.register(hooks);
            int scored = LensVocab.scoredVocab(m);
            LensMetrics metrics = new LogitLens(t, scored).run(ids, hooks);
            write(metrics, out, m, scored, g.description());
            System.out.printf(Locale.ROOT, "wrote %s: %d readouts x %d positions%n", out, metrics.readouts(), metrics.positions());
        }
        return 0;
    }

    /** {@code graft} describes the graft the model ran under, null when none. */
    static void write(LensMetrics metrics, Path file, Model m, int scoredVocab, String graft) {
        long[] shape = {metrics.readouts(), metrics.positions()};
        SafetensorsWriter writer = new SafetensorsWriter(DType.F32)
                .add("lens.kl", shape, flat(metrics.kl()))
                .add("lens.kl_rev", shape, flat(metrics.klRev()))
                .add("lens.entropy", shape, flat(metrics.entropy()))
                .add("lens.top1", shape, flat(metrics.top1()))
                .add("lens.final_top1_rank", shape, flat(metrics.finalTop1Rank()))
                .metadata("model", m.dir().toAbsolutePath().toString())
                .metadata("readout", "raw")
                .metadata("scored_vocab", Integer.toString(scoredVocab));
        if (graft != null) writer.metadata("graft", graft);
        writer.write(file);
    }

    static float[] flat(double[][] x) {
        int cols = x[0].length;
        float[] out = new float[x.length * cols];
        for (int r = 0; r < x.length; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = (float) x[r][c];
        return out;
    }

    static float[] flat(int[][] x) {
        int cols = x[0].length;
        float[] out = new float[x.length * cols];
        for (int r = 0; r < x.length; r++) for (int c = 0; c < cols; c++) out[r * cols + c] = x[r][c];
        return out;
    }
}
