package cgap.gap.lens;

import cgap.engine.hooks.Activation;
import cgap.engine.hooks.HookName;
import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;

import java.util.Arrays;

/**
 * Collects the residual stream the logit lens reads: readout 0 is {@code hook_embed}, readout l >= 1 is
 * {@code blocks.{l-1}.hook_resid_post}. Keeps only the positions from {@code firstPosition} on, across a prefill
 * and any decode steps, so a long prompt costs nothing beyond the rows asked for.
 */
public final class ResidualCapture {
    private final int hidden;
    private final int firstPosition;
    private final float[][] rows;
    private final int[] filled;

    private ResidualCapture(int readouts, int hidden, int firstPosition, int expectedPositions) {
        this.hidden = hidden;
        this.firstPosition = firstPosition;
        this.rows = new float[readouts][expectedPositions * hidden];
        this.filled = new int[readouts];
    }

    /** Registers on the L + 1 lens points of a model with {@code layers} blocks, keeping positions >= firstPosition. */
    public static ResidualCapture attach(HookRegistry hooks, int layers, int hidden, int firstPosition) {
        return attach(hooks, layers, hidden, firstPosition, 0);
    }

    /** As above, with room for {@code expectedPositions} rows up front (then {@link #residuals()} copies nothing). */
    public static ResidualCapture attach(HookRegistry hooks, int layers, int hidden, int firstPosition, int expectedPositions) {
        ResidualCapture capture = new ResidualCapture(layers + 1, hidden, firstPosition, expectedPositions);
        hooks.add(HookName.of(HookPoint.EMBED), a -> capture.keep(0, a));
        for (int i = 0; i < layers; i++) {
            int readout = i + 1;
            hooks.add(HookName.of(HookPoint.RESID_POST, i), a -> capture.keep(readout, a));
        }
        return capture;
    }

    private void keep(int readout, Activation a) {
        int skip = Math.max(0, firstPosition - a.firstPosition());
        int n = a.rows() - skip;
        if (n <= 0) return;
        int at = filled[readout];
        if (rows[readout].length < (at + n) * hidden) {
            rows[readout] = Arrays.copyOf(rows[readout], Math.max((at + n) * hidden, rows[readout].length * 2));
        }
        System.arraycopy(a.data(), skip * hidden, rows[readout], at * hidden, n * hidden);
        filled[readout] = at + n;
    }

    /** Positions kept so far. */
    public int positions() { return filled[0]; }

    /** The kept residuals, [readout][position * hidden + c], exactly {@link #positions()} rows (shared, not copied, when they fill the arrays). */
    public float[][] residuals() {
        float[][] out = new float[rows.length][];
        for (int l = 0; l < rows.length; l++) {
            out[l] = rows[l].length == filled[l] * hidden ? rows[l] : Arrays.copyOf(rows[l], filled[l] * hidden);
        }
        return out;
    }

    /** Readout rows [L+1, d] of one kept position (0-based among the kept ones). */
    public float[] position(int p) {
        float[] out = new float[rows.length * hidden];
        for (int l = 0; l < rows.length; l++) System.arraycopy(rows[l], p * hidden, out, l * hidden, hidden);
        return out;
    }

    /** Forgets the kept rows (to reuse the capture for the next decode step). */
    public void clear() { Arrays.fill(filled, 0); }
}
