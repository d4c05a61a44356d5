package cgap.engine.runtime;

import cgap.engine.hooks.HookName;
import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;
import cgap.kernels.Activations;
import cgap.kernels.MatMul;
import cgap.kernels.WeightMatrix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A decoder-only transformer: embedding, blocks, final norm, unembedding. The forward pass below is the
 * whole computation, in the order it happens; families differ only in the data they put in the blocks.
 *
 * @param embedScale   multiplier on the embeddings (1, or Gemma's sqrt(d) rounded to the checkpoint dtype)
 * @param finalSoftcap tanh soft-cap on the logits (Gemma 2), 0 for none
 */
public record Transformer(int hidden, int vocab, WeightMatrix embedding, float embedScale,
                          List<Block> blocks, Norm finalNorm, WeightMatrix unembedding, float finalSoftcap) {

    /** Which logit rows a forward call computes: every position, or only the last (enough to pick a next token). */
    public enum Logits { ALL, LAST, NONE }

    public int layers() { return blocks.size(); }

    /** This model with other blocks (e.g. some MLPs grafted from another checkpoint); everything else shared. */
    public Transformer withBlocks(List<Block> blocks) {
        return new Transformer(hidden, vocab, embedding, embedScale, List.copyOf(blocks), finalNorm, unembedding, finalSoftcap);
    }

    /** Every hook point this model fires, in the order a forward pass fires them. */
    public List<HookName> hookNames() {
        List<HookName> names = new ArrayList<>();
        names.add(HookName.of(HookPoint.EMBED));
        for (int i = 0; i < blocks.size(); i++) {
            for (HookPoint p : List.of(HookPoint.RESID_PRE, HookPoint.LN1, HookPoint.ATTN_OUT, HookPoint.RESID_MID, HookPoint.LN2)) {
                names.add(HookName.of(p, i));
            }
            for (HookPoint p : blocks.get(i).mlp().hookPoints()) names.add(HookName.of(p, i));
            names.add(HookName.of(HookPoint.MLP_OUT, i));
            names.add(HookName.of(HookPoint.RESID_POST, i));
        }
        names.add(HookName.of(HookPoint.LN_FINAL));
        names.add(HookName.of(HookPoint.LOGITS));
        return names;
    }

    public KvCache newCache() {
        AttentionLayer first = blocks.getFirst().attention();
        return new KvCache(blocks.size(), first.cachedKeyWidth(), first.cachedValueWidth());
    }

    /**
     * Runs {@code tokens} at positions cache.length() .. +T-1, appending to the cache. Returns the logits rows
     * asked for ([T, V], [1, V] or null) after the final soft-cap.
     */
    public float[] forward(int[] tokens, KvCache cache, HookRegistry hooks, Logits which) {
        int T = tokens.length, d = hidden, pos0 = cache.length();
        float[] x = embed(tokens);
        hooks.fire(HookPoint.EMBED, -1, x, T, d, pos0);

        float[] h = new float[T * d];
        float[] sub = new float[T * d];
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            hooks.fire(HookPoint.RESID_PRE, i, x, T, d, pos0);

            normOrCopy(b.attnNorm(), x, h, T);
            hooks.fire(HookPoint.LN1, i, h, T, d, pos0);
            b.attention().forward(h, T, pos0, i, cache, hooks, sub);
            if (b.attnPostNorm() != null) b.attnPostNorm().apply(sub, sub, T);
            hooks.fire(HookPoint.ATTN_OUT, i, sub, T, d, pos0);
            add(x, sub, T * d);
            hooks.fire(HookPoint.RESID_MID, i, x, T, d, pos0);

            normOrCopy(b.mlpNorm(), x, h, T);
            hooks.fire(HookPoint.LN2, i, h, T, d, pos0);
            b.mlp().forward(h, T, pos0, i, hooks, sub);
            if (b.mlpPostNorm() != null) b.mlpPostNorm().apply(sub, sub, T);
            hooks.fire(HookPoint.MLP_OUT, i, sub, T, d, pos0);
            add(x, sub, T * d);
            hooks.fire(HookPoint.RESID_POST, i, x, T, d, pos0);
        }
        cache.advanceTo(pos0 + T);

        if (which == Logits.NONE && !hooks.watching(HookPoint.LN_FINAL, -1) && !hooks.watching(HookPoint.LOGITS, -1)) {
            return null;
        }
        finalNorm.apply(x, h, T);
        hooks.fire(HookPoint.LN_FINAL, -1, h, T, d, pos0);
        if (which == Logits.NONE && !hooks.watching(HookPoint.LOGITS, -1)) return null;
        if (which == Logits.LAST && !hooks.watching(HookPoint.LOGITS, -1)) {
            float[] last = Arrays.copyOfRange(h, (T - 1) * d, T * d);
            return unembed(last, 1);
        }
        float[] logits = unembed(h, T);
        hooks.fire(HookPoint.LOGITS, -1, logits, T, vocab, pos0);
        if (which == Logits.LAST) return Arrays.copyOfRange(logits, (T - 1) * vocab, T * vocab);
        return which == Logits.ALL ? logits : null;
    }

    /** The logit-lens readout of residual rows [rows, d]: final norm, unembedding, final soft-cap. */
    public float[] readout(float[] residual, int rows) {
        return unembed(finalNorm.apply(residual, rows), rows);
    }

    /** Unembedding of already-normalized rows [rows, d], soft-capped. */
    public float[] unembed(float[] normalized, int rows) {
        float[] logits = new float[rows * vocab];
        MatMul.matmul(normalized, rows, unembedding, logits);
        if (finalSoftcap > 0) Activations.softcap(logits, 0, logits.length, finalSoftcap);
        return logits;
    }

    private float[] embed(int[] tokens) {
        float[] x = new float[tokens.length * hidden];
        for (int t = 0; t < tokens.length; t++) {
            int id = tokens[t];
            if (id < 0 || id >= embedding.rows()) {
                throw new IllegalArgumentException("token id " + id + " at position " + t
                        + " is outside the embedding (0.." + (embedding.rows() - 1) + ")");
            }
            float[] row = embedding.row(id);
            for (int c = 0; c < hidden; c++) x[t * hidden + c] = row[c] * embedScale;
        }
        return x;
    }

    private void normOrCopy(Norm norm, float[] x, float[] out, int T) {
        if (norm != null) norm.apply(x, out, T);
        else System.arraycopy(x, 0, out, 0, T * hidden);
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) x[i] += y[i];
    }
}
