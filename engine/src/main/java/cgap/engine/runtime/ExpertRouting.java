package cgap.engine.runtime;

/**
 * Where one mixture-of-experts call sent its tokens: for token row t (absolute position firstPosition + t) and
 * slot s < topK, expert {@code expertIds[t*topK + s]} with weight {@code weights[t*topK + s]} (softmax probability
 * times routed_scaling_factor). Slots are in descending probability, ties to the lower expert id. The shared
 * experts are not listed: every token goes through them with weight 1.
 *
 * <p>To receive it, register a {@link Listener} for the forward call:
 * {@code hooks.listen(ExpertRouting.Listener.class, r -> ...)}. It is called once per MoE layer per forward call,
 * after the {@code mlp.hook_topk_ids} hook and before the experts run; the arrays are the ones the layer then
 * uses, so a listener may change a weight (e.g. 0 to ablate an expert for some tokens) or an id.
 */
public record ExpertRouting(int layer, int firstPosition, int tokens, int topK, int[] expertIds, float[] weights) {

    @FunctionalInterface
    public interface Listener {
        void onRouting(ExpertRouting routing);
    }

    public int expert(int token, int slot) { return expertIds[token * topK + slot]; }

    public float weight(int token, int slot) { return weights[token * topK + slot]; }
}
