package cgap.engine.runtime;

import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;
import cgap.kernels.MatMul;
import cgap.kernels.Softmax;
import cgap.kernels.WeightMatrix;

import java.util.Arrays;
import java.util.List;

/**
 * DeepSeek-V2's mixture-of-experts MLP, as transformers computes it.
 * <pre>
 *   logits = h @ router^T (f32)                     hook mlp.hook_router_logits [T, experts]
 *   p      = softmax(logits) over all routed experts
 *   ids    = top-k of p (descending, ties to the lower id); with groups > 1 only experts of the
 *            groupsKept groups with the largest max-p compete ("group_limited_greedy")
 *                                                   hook mlp.hook_topk_ids [T, k]
 *   w      = p[ids] * routedScaling                 (no renormalisation)
 *   out    = sum_s w_s * expert_{ids_s}(h) + shared(h)
 * </pre>
 * Each expert and the shared experts are SiLU-GLU MLPs; only the chosen experts' weights are read. There is no
 * mlp.hook_pre/post here: the hooks are the router's, and hook_mlp_out is this whole output. The per-token
 * routing (ids and weights) goes to an {@link ExpertRouting.Listener} when one is registered.
 *
 * @param router        gate.weight [experts, d]
 * @param experts       the routed experts, by id
 * @param shared        the shared experts as one MLP (width moe_intermediate_size * n_shared_experts), or null
 * @param groups        expert groups for group-limited routing; 1 = plain greedy top-k
 * @param groupsKept    how many groups stay in the running (topk_group) when groups > 1
 */
public record MixtureOfExperts(WeightMatrix router, List<GatedMlp> experts, GatedMlp shared, int topK,
                               float routedScaling, int groups, int groupsKept) implements MlpLayer {

    public MixtureOfExperts {
        experts = List.copyOf(experts);
        if (router.rows() != experts.size()) {
            throw new IllegalArgumentException("router has " + router.rows() + " rows for " + experts.size() + " experts");
        }
        if (topK < 1 || topK > experts.size()) {
            throw new IllegalArgumentException("top-k " + topK + " outside 1.." + experts.size() + " experts");
        }
        if (groups < 1 || experts.size() % groups != 0 || groupsKept < 1 || groupsKept > groups
                || (groups > 1 && groupsKept * (experts.size() / groups) < topK)) {
            throw new IllegalArgumentException("group-limited routing: " + experts.size() + " experts in " + groups
                    + " groups keeping " + groupsKept + " cannot pick " + topK);
        }
    }

    @Override
    public List<HookPoint> hookPoints() { return List.of(HookPoint.ROUTER_LOGITS, HookPoint.TOPK_IDS); }

    @Override
    public void forward(float[] h, int T, int pos0, int layer, HookRegistry hooks, float[] out) {
        int n = experts.size(), d = router.cols();
        float[] logits = new float[T * n];
        MatMul.matmul(h, T, router, logits);
        hooks.fire(HookPoint.ROUTER_LOGITS, layer, logits, T, n, pos0);

        float[] probs = logits.clone();
        for (int t = 0; t < T; t++) Softmax.inPlace(probs, t * n, n);
        int[] ids = new int[T * topK];
        for (int t = 0; t < T; t++) selectTopK(probs, t * n, ids, t * topK);

        if (hooks.watching(HookPoint.TOPK_IDS, layer)) {
            float[] idValues = new float[ids.length];
            for (int i = 0; i < ids.length; i++) idValues[i] = ids[i];
            hooks.fire(HookPoint.TOPK_IDS, layer, idValues, T, topK, pos0);
            for (int i = 0; i < ids.length; i++) ids[i] = expertId(idValues[i], layer, i / topK);
        }
        float[] weights = new float[T * topK];
        for (int i = 0; i < ids.length; i++) weights[i] = probs[(i / topK) * n + ids[i]] * routedScaling;
        ExpertRouting.Listener listener = hooks.listener(ExpertRouting.Listener.class);
        if (listener != null) {
            listener.onRouting(new ExpertRouting(layer, pos0, T, topK, ids, weights));
            for (int i = 0; i < ids.length; i++) expertId(ids[i], layer, i / topK);
        }

        Arrays.fill(out, 0, T * d, 0f);
        runExperts(h, T, d, ids, weights, out);
        if (shared != null) {
            float[] sharedOut = new float[T * d];
            shared.forward(h, T, pos0, layer, HookRegistry.none(), sharedOut);
            for (int i = 0; i < T * d; i++) out[i] += sharedOut[i];
        }
    }

    /** Expert by expert in id order: gather its tokens, run it once on them, add weight * output to their rows. */
    private void runExperts(float[] h, int T, int d, int[] ids, float[] weights, float[] out) {
        int[] rows = new int[T];
        float[] rowWeights = new float[T];
        for (int e = 0; e < experts.size(); e++) {
            int count = 0;
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] != e) continue;
                rows[count] = i / topK;
                rowWeights[count++] = weights[i];
            }
            if (count == 0) continue;
            float[] in = new float[count * d];
            for (int j = 0; j < count; j++) System.arraycopy(h, rows[j] * d, in, j * d, d);
            float[] y = new float[count * d];
            experts.get(e).forward(in, count, 0, -1, HookRegistry.none(), y);
            for (int j = 0; j < count; j++) {
                int o = rows[j] * d;
                float w = rowWeights[j];
                for (int c = 0; c < d; c++) out[o + c] += y[j * d + c] * w;
            }
        }
    }

    /**
     * The topK largest of probs[offset, offset+experts) into ids[at..], largest first, ties to the lower id. With
     * groups, first keep the groupsKept groups whose best probability is largest (ties to the lower group) and
     * treat the other experts as probability 0, as transformers' masked_fill does.
     */
    void selectTopK(float[] probs, int offset, int[] ids, int at) {
        int n = experts.size();
        float[] scores = Arrays.copyOfRange(probs, offset, offset + n);
        if (groups > 1) {
            int size = n / groups;
            float[] groupBest = new float[groups];
            for (int g = 0; g < groups; g++) {
                float best = Float.NEGATIVE_INFINITY;
                for (int e = g * size; e < (g + 1) * size; e++) best = Math.max(best, scores[e]);
                groupBest[g] = best;
            }
            int[] kept = new int[groupsKept];
            largest(groupBest, groupsKept, kept, 0);
            boolean[] keep = new boolean[groups];
            for (int g : kept) keep[g] = true;
            for (int e = 0; e < n; e++) if (!keep[e / size]) scores[e] = 0f;
        }
        largest(scores, topK, ids, at);
    }

    /** Indices of the k largest values, largest first, ties to the lower index (values are clobbered). */
    private static void largest(float[] values, int k, int[] into, int at) {
        for (int s = 0; s < k; s++) {
            int best = -1;
            for (int i = 0; i < values.length; i++) {
                if (values[i] != Float.NEGATIVE_INFINITY && (best < 0 || values[i] > values[best])) best = i;
            }
            into[at + s] = best;
            values[best] = Float.NEGATIVE_INFINITY;
        }
    }

    private int expertId(float value, int layer, int row) {
        int id = (int) value;
        if (id != value || id < 0 || id >= experts.size()) {
            throw new IllegalArgumentException("blocks." + layer + ".mlp: routed expert " + value + " for token row "
                    + row + " is not an expert id (0.." + (experts.size() - 1) + ")");
        }
        return id;
    }
}
