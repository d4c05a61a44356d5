package cgap.engine.runtime;

import cgap.engine.hooks.HookRegistry;

/** The attention sub-block of one layer: reads the normalized input, updates the cache, writes o_proj's output. */
public interface AttentionLayer {
    /** h: [T, d] at positions pos0..pos0+T-1; out: [T, d]. */
    void forward(float[] h, int T, int pos0, int layer, KvCache cache, HookRegistry hooks, float[] out);

    /** Width of one cached key row and one cached value row for this attention kind. */
    int cachedKeyWidth();

    int cachedValueWidth();
}
