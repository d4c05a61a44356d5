package cgap.engine.runtime;

/**
 * Rotary position embedding for one attention kind: inverse frequencies (float32, as HF computes them), the
 * factor HF multiplies cos and sin by ({@code attention_scaling}; 1 except for YaRN), and the pair layout.
 * The rope scaling variants (linear, llama3, YaRN) differ only in how the inverse frequencies are built, which
 * the model description does; this class turns them into cos/sin for a run of positions.
 */
public record RopeTable(float[] invFreq, float attentionScaling, boolean interleaved) {

    /** Rotated dimensions per head (two per frequency). */
    public int rotaryDim() { return invFreq.length * 2; }

    /** cos and sin, each [T, rotaryDim/2], for positions pos0 .. pos0+T-1: angle = (float) pos * invFreq in f32. */
    public float[][] cosSin(int pos0, int T) {
        int half = invFreq.length;
        float[] cos = new float[T * half];
        float[] sin = new float[T * half];
        for (int t = 0; t < T; t++) {
            float position = pos0 + t;
            for (int i = 0; i < half; i++) {
                float angle = invFreq[i] * position;
                cos[t * half + i] = (float) Math.cos(angle) * attentionScaling;
                sin[t * half + i] = (float) Math.sin(angle) * attentionScaling;
            }
        }
        return new float[][] {cos, sin};
    }

    /** Plain RoPE: invFreq[i] = 1 / base^(2i/dim), with the exponent and power in float32 as torch computes them. */
    public static float[] defaultInvFreq(double base, int dim) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / dim;
            inv[i] = (float) (1.0 / (float) Math.pow(base, exponent));
        }
        return inv;
    }

    /** Linear scaling: every frequency divided by the factor (positions slowed down). */
    public static float[] linearInvFreq(double base, int dim, double factor) {
        float[] inv = defaultInvFreq(base, dim);
        for (int i = 0; i < inv.length; i++) inv[i] = (float) (inv[i] / factor);
        return inv;
    }

    /** Llama 3.1 scaling: low frequencies divided by the factor, high ones kept, a smooth blend in between. */
    public static float[] llama3InvFreq(double base, int dim, double factor, double lowFreqFactor,
                                        double highFreqFactor, double originalMaxPositions) {
        float[] inv = defaultInvFreq(base, dim);
        double lowFreqWavelen = originalMaxPositions / lowFreqFactor;
        double highFreqWavelen = originalMaxPositions / highFreqFactor;
        for (int i = 0; i < inv.length; i++) {
            float wavelen = (float) (2 * Math.PI / inv[i]);
            float scaled = wavelen > lowFreqWavelen ? (float) (inv[i] / factor) : inv[i];
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                float smooth = (float) ((float) (originalMaxPositions / wavelen - lowFreqFactor)
                        / (highFreqFactor - lowFreqFactor));
                scaled = (float) ((1 - smooth) * scaled / (float) factor + smooth * scaled);
            }
            inv[i] = scaled;
        }
        return inv;
    }
}
