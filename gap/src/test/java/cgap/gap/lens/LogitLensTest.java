package cgap.gap.lens;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Transformer;
import cgap.models.Model;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused, chunked lens against the plain one ({@link Readouts}: whole logits, two-pass log-sum-exp) on the
 * repository's small HF checkpoints, with block and chunk sizes that put boundaries everywhere.
 */
class LogitLensTest {
    static final double CLOSE = 1e-9;

    static Path fixture(String name) {
        String root = System.getProperty("cgap.repo.root");
        return (root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize()).resolve("tests/fixtures/hf").resolve(name);
    }

    static final int[] TOKENS = {86, 102, 238, 197, 56, 42, 228, 253, 185, 50, 116, 75, 242, 170, 162, 244, 199};

    @Test
    void chunkedLensEqualsWholeReadouts() {
        for (String name : new String[] {"llama-f32", "llama-bf16"}) {
            try (Model m = Model.load(fixture(name))) {
                Transformer t = m.transformer();
                float[][] residuals = residuals(t, TOKENS);
                LensMetrics expected = reference(t, t.vocab(), residuals, residuals[residuals.length - 1], TOKENS.length);
                // Blocks of 7 rows (one position each, 5 readouts) and 37-id chunks: every boundary is crossed.
                assertClose(expected, new LogitLens(t, t.vocab(), 7, 37).measure(residuals, TOKENS.length), name + " small chunks");
                assertClose(expected, new LogitLens(t, t.vocab(), 13, 100).measure(residuals, TOKENS.length), name + " 3 positions per block");
                assertClose(expected, new LogitLens(t).run(TOKENS), name + " default sizes via run()");
            }
        }
    }

    @Test
    void paddedIdsAreMasked() {
        try (Model m = Model.load(fixture("llama-f32"))) {
            Transformer t = m.transformer();
            float[][] residuals = residuals(t, TOKENS);
            LensMetrics expected = reference(t, 200, residuals, residuals[residuals.length - 1], TOKENS.length);
            LensMetrics got = new LogitLens(t, 200, 11, 64).measure(residuals, TOKENS.length);
            assertClose(expected, got, "scored vocabulary 200");
            for (int[] row : got.top1()) for (int id : row) assertTrue(id < 200, "masked id " + id + " won top-1");
        }
    }

    @Test
    void anyResidualAgainstAnyFinal() {
        try (Model m = Model.load(fixture("llama-f32"))) {
            Transformer t = m.transformer();
            float[][] residuals = residuals(t, TOKENS);
            float[][] someLayers = {residuals[1], residuals[3], residuals[4]};
            float[] finalResidual = residuals[2];
            LensMetrics expected = reference(t, t.vocab(), someLayers, finalResidual, TOKENS.length);
            LensMetrics got = new LogitLens(t, t.vocab(), 5, 50).measure(someLayers, finalResidual, TOKENS.length);
            assertClose(expected, got, "layers 1, 3, 4 against layer 2");
            // The readout of layer 2 as final: layer 2 against itself is KL 0, rank 0.
            LensMetrics self = new LogitLens(t).measure(new float[][] {residuals[2]}, residuals[2].clone(), TOKENS.length);
            for (int p = 0; p < TOKENS.length; p++) {
                assertEquals(0, self.kl()[0][p], 1e-12);
                assertEquals(0, self.klRev()[0][p], 1e-12);
                assertEquals(0, self.finalTop1Rank()[0][p]);
            }
        }
    }

    /** Metrics from whole readouts, position by position: the definition, written plainly. */
    static LensMetrics reference(Transformer t, int scored, float[][] residuals, float[] finalResidual, int T) {
        int d = t.hidden(), R = residuals.length;
        double[][] kl = new double[R][T], klRev = new double[R][T], entropy = new double[R][T];
        int[][] top1 = new int[R][T], rank = new int[R][T];
        double[] prob = new double[T], finalEntropy = new double[T], margin = new double[T];
        for (int p = 0; p < T; p++) {
            float[] rows = new float[(R + 1) * d];
            for (int r = 0; r < R; r++) System.arraycopy(residuals[r], p * d, rows, r * d, d);
            System.arraycopy(finalResidual, p * d, rows, R * d, d);
            Readouts x = Readouts.of(t, scored, rows, R + 1);
            int finalTop1 = x.top1(R);
            for (int r = 0; r < R; r++) {
                kl[r][p] = x.kl(r, R);
                klRev[r][p] = x.kl(R, r);
                entropy[r][p] = x.entropy(r);
                top1[r][p] = x.top1(r);
                rank[r][p] = x.rank(r, finalTop1);
            }
            prob[p] = Math.exp(x.logProb(R, finalTop1));
            finalEntropy[p] = x.entropy(R);
            margin[p] = x.margin(R);
        }
        return new LensMetrics(kl, klRev, entropy, top1, rank, prob, finalEntropy, margin);
    }

    static float[][] residuals(Transformer t, int[] tokens) {
        HookRegistry hooks = new HookRegistry();
        ResidualCapture capture = ResidualCapture.attach(hooks, t.layers(), t.hidden(), 0);
        t.forward(tokens, t.newCache(), hooks, Transformer.Logits.NONE);
        return capture.residuals();
    }

    static void assertClose(LensMetrics want, LensMetrics got, String what) {
        assertEquals(want.readouts(), got.readouts(), what + ": readouts");
        for (int r = 0; r < want.readouts(); r++) {
            for (int p = 0; p < want.positions(); p++) {
                String at = what + " readout " + r + " position " + p;
                assertEquals(want.kl()[r][p], got.kl()[r][p], CLOSE, at + " kl");
                assertEquals(want.klRev()[r][p], got.klRev()[r][p], CLOSE, at + " kl_rev");
                assertEquals(want.entropy()[r][p], got.entropy()[r][p], CLOSE, at + " entropy");
            }
            assertArrayEquals(want.top1()[r], got.top1()[r], what + " readout " + r + " top1");
            assertArrayEquals(want.finalTop1Rank()[r], got.finalTop1Rank()[r], what + " readout " + r + " rank");
        }
        assertArrayEquals(want.finalTop1Prob(), got.finalTop1Prob(), CLOSE, what + " final top-1 prob");
        assertArrayEquals(want.finalEntropy(), got.finalEntropy(), CLOSE, what + " final entropy");
        assertArrayEquals(want.finalMargin(), got.finalMargin(), 0, what + " final margin");
    }
}
