package cgap.models;

import cgap.engine.runtime.RopeTable;
import com.fasterxml.jackson.databind.JsonNode;

/** Reads RoPE parameters in either config dialect and builds the {@link RopeTable}. */
final class Ropes {
    private Ropes() {}

    /**
     * @param params     rope_parameters (transformers 5) or rope_scaling (legacy) object, may be null
     * @param theta      the base to use when params carry none
     * @param headDim    the head size the frequencies are derived from
     */
    static RopeTable table(ModelConfig c, String path, JsonNode params, double theta, int headDim,
                           int maxPositions, boolean interleaved) {
        String type = "default";
        if (params != null && params.isObject()) {
            JsonNode t = params.hasNonNull("rope_type") ? params.get("rope_type") : params.get("type");
            if (t != null && t.isTextual()) type = t.asText();
            theta = c.number(params, path, "rope_theta", theta);
        }
        int dim = (int) (headDim * c.number(params, path, "partial_rotary_factor", 1.0));
        return switch (type) {
            case "default" -> new RopeTable(RopeTable.defaultInvFreq(theta, dim), 1f, interleaved);
            case "linear" -> new RopeTable(RopeTable.linearInvFreq(theta, dim, required(c, params, path, "factor")), 1f, interleaved);
            case "llama3" -> new RopeTable(RopeTable.llama3InvFreq(theta, dim,
                    required(c, params, path, "factor"),
                    required(c, params, path, "low_freq_factor"),
                    required(c, params, path, "high_freq_factor"),
                    c.number(params, path, "original_max_position_embeddings", maxPositions)), 1f, interleaved);
            case "yarn" -> Yarn.table(c, path, params, theta, dim, maxPositions, interleaved);
            default -> throw new IllegalArgumentException(c.file() + ": rope type '" + type + "' in " + path
                    + " is not supported (supported: default, linear, llama3, yarn)");
        };
    }

    static double required(ModelConfig c, JsonNode params, String path, String key) {
        double v = c.number(params, path, key, Double.NaN);
        if (Double.isNaN(v)) throw new IllegalArgumentException(c.file() + ": missing key '" + path + "." + key + "'");
        return v;
    }

    /** The single-kind rope parameters object of a config: rope_parameters, else rope_scaling; may be null. */
    static JsonNode params(ModelConfig c) {
        JsonNode p = c.node("rope_parameters");
        if (p != null && p.isObject()) return p;
        JsonNode s = c.node("rope_scaling");
        return s != null && s.isObject() ? s : null;
    }

    static String paramsPath(ModelConfig c) {
        return c.node("rope_parameters") != null && c.node("rope_parameters").isObject() ? "rope_parameters" : "rope_scaling";
    }
}
