package cgap.engine.runtime;

import java.util.Arrays;

/**
 * Keys and values of every layer for the positions processed so far, f32, row-major [position, width].
 * Widths are per layer kind: {@code kvHeads * keyDim} and {@code kvHeads * valueDim}. Grows as positions arrive.
 */
public final class KvCache {
    private final int keyWidth;
    private final int valueWidth;
    private final float[][] keys;
    private final float[][] values;
    private int length;

    public KvCache(int layers, int keyWidth, int valueWidth) {
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.keys = new float[layers][0];
        this.values = new float[layers][0];
    }

    /** Positions cached so far; the next forward call starts at this position. */
    public int length() { return length; }

    public float[] keys(int layer) { return keys[layer]; }

    public float[] values(int layer) { return values[layer]; }

    /** Writes T new positions of one layer starting at pos0 (keys [T, keyWidth], values [T, valueWidth]). */
    public void store(int layer, int pos0, int T, float[] k, float[] v) {
        int needed = pos0 + T;
        if (keys[layer].length < needed * keyWidth) {
            int capacity = Math.max(needed, Math.max(16, keys[layer].length / Math.max(1, keyWidth) * 2));
            keys[layer] = Arrays.copyOf(keys[layer], capacity * keyWidth);
            values[layer] = Arrays.copyOf(values[layer], capacity * valueWidth);
        }
        System.arraycopy(k, 0, keys[layer], pos0 * keyWidth, T * keyWidth);
        System.arraycopy(v, 0, values[layer], pos0 * valueWidth, T * valueWidth);
    }

    /** Called by the forward pass once all layers have stored positions up to {@code newLength}. */
    void advanceTo(int newLength) { length = newLength; }

    /** f32 bytes one position takes across all layers. */
    public long bytesPerPosition() { return 4L * keys.length * (keyWidth + valueWidth); }
}
