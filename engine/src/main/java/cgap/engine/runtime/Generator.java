package cgap.engine.runtime;

import cgap.engine.hooks.HookRegistry;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;

/** Greedy decoding: prefill the prompt, then one token at a time through the KV cache. */
public final class Generator {
    private Generator() {}

    /**
     * Returns up to {@code maxNewTokens} greedy tokens after {@code prompt}, stopping after an id in {@code stopIds}
     * (which is included). {@code onToken} sees each token as it is chosen (for streaming output).
     */
    public static int[] greedy(Transformer model, int[] prompt, int maxNewTokens, Set<Integer> stopIds,
                               HookRegistry hooks, IntConsumer onToken) {
        if (prompt.length == 0) throw new IllegalArgumentException("generation needs at least one prompt token");
        KvCache cache = model.newCache();
        List<Integer> out = new ArrayList<>();
        float[] logits = model.forward(prompt, cache, hooks, Transformer.Logits.LAST);
        for (int step = 0; step < maxNewTokens; step++) {
            int next = argmax(logits, 0, model.vocab());
            out.add(next);
            onToken.accept(next);
            if (stopIds.contains(next) || step == maxNewTokens - 1) break;
            logits = model.forward(new int[] {next}, cache, hooks, Transformer.Logits.LAST);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Index of the largest value in x[offset, offset+len); ties go to the lowest index. */
    public static int argmax(float[] x, int offset, int len) {
        int best = 0;
        float bestValue = x[offset];
        for (int i = 1; i < len; i++) {
            if (x[offset + i] > bestValue) {
                bestValue = x[offset + i];
                best = i;
            }
        }
        return best;
    }
}
