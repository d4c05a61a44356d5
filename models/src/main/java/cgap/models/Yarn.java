package cgap.models;

import cgap.engine.runtime.RopeTable;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * YaRN RoPE scaling as transformers computes it: frequencies blended between interpolated (1/(factor*freq))
 * and extrapolated (1/freq) by a linear ramp over the correction range, and cos/sin multiplied by the
 * attention factor mscale(factor, mscale) / mscale(factor, mscale_all_dim).
 */
final class Yarn {
    private Yarn() {}

    static RopeTable table(ModelConfig c, String path, JsonNode p, double base, int dim, int maxPositions,
                           boolean interleaved) {
        double factor = c.number(p, path, "factor", Double.NaN);
        double originalMax = Ropes.required(c, p, path, "original_max_position_embeddings");
        if (Double.isNaN(factor)) factor = maxPositions / originalMax;
        double attentionFactor = c.number(p, path, "attention_factor", Double.NaN);
        double mscale = c.number(p, path, "mscale", 0);
        double mscaleAllDim = c.number(p, path, "mscale_all_dim", 0);
        if (Double.isNaN(attentionFactor)) {
            attentionFactor = mscale != 0 && mscaleAllDim != 0
                    ? mscale(factor, mscale) / mscale(factor, mscaleAllDim)
                    : mscale(factor, 1);
        }
        double betaFast = c.number(p, path, "beta_fast", 0);
        double betaSlow = c.number(p, path, "beta_slow", 0);
        if (betaFast == 0) betaFast = 32;
        if (betaSlow == 0) betaSlow = 1;
        boolean truncate = p == null || !p.has("truncate") || p.get("truncate").asBoolean(true);

        double low = correctionDim(betaFast, dim, base, originalMax);
        double high = correctionDim(betaSlow, dim, base, originalMax);
        if (truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;

        // f32 throughout, with the Python scalars rounded to f32 where torch meets them with an f32 tensor.
        float lowF = (float) low, spanF = (float) (high - low), factorF = (float) factor;
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float posFreq = (float) Math.pow(base, (float) (2 * i) / dim);
            float extrapolation = 1f / posFreq;
            float interpolation = 1f / (factorF * posFreq);
            float ramp = Math.min(1f, Math.max(0f, (i - lowF) / spanF));
            float extrapolationFactor = 1 - ramp;
            inv[i] = interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor;
        }
        return new RopeTable(inv, (float) attentionFactor, interleaved);
    }

    /** yarn_get_mscale: 0.1 * m * ln(scale) + 1 for scale > 1, else 1. */
    static double mscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }

    private static double correctionDim(double rotations, int dim, double base, double maxPositions) {
        return (dim * Math.log(maxPositions / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
    }
}
