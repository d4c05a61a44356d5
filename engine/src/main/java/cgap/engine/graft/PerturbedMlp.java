package cgap.engine.graft;

import cgap.engine.hooks.HookPoint;
import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.MlpLayer;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A random control for an MLP graft: runs the host's and the donor's MLP on the same input and outputs
 * host_out + d', d' the {@link Perturbation} of d = donor_out - host_out. The host's MLP fires the mlp.* hooks
 * (so its hook_pre/post are seen and editable as usual); the donor's runs unwatched.
 *
 * <p>The random direction of each token depends only on (seed, layer, absolute position), so a prefill and a
 * token-by-token decode of the same sequence draw the same directions. Callers that want independent draws per
 * prompt fold the prompt into the seed ({@link #seedFor}).
 */
public record PerturbedMlp(MlpLayer host, MlpLayer donor, Perturbation kind, long seed) implements MlpLayer {

    @Override
    public void forward(float[] h, int T, int pos0, int layer, HookRegistry hooks, float[] out) {
        int d = h.length / T;
        float[] donorOut = new float[T * d];
        host.forward(h, T, pos0, layer, hooks, out);
        donor.forward(h, T, pos0, layer, HookRegistry.none(), donorOut);
        double[] change = new double[d];
        for (int t = 0; t < T; t++) {
            int o = t * d;
            kind.change(h, out, donorOut, o, d, direction(seed, layer, pos0 + t, d), change);
            for (int i = 0; i < d; i++) out[o + i] = (float) (out[o + i] + change[i]);
        }
    }

    @Override
    public List<HookPoint> hookPoints() { return host.hookPoints(); }

    /** The standard-normal vector drawn for (seed, layer, position), before it is constrained and normalized. */
    public static double[] direction(long seed, int layer, int position, int n) {
        SplittableRandom random = new SplittableRandom(mix(mix(seed ^ 0x9E3779B97F4A7C15L * (layer + 1)) + position));
        double[] r = new double[n];
        for (int i = 0; i < n; i++) r[i] = random.nextGaussian();
        return r;
    }

    /** A seed for one prompt of a run: the run's seed and the prompt's id hashed together. */
    public static long seedFor(long runSeed, String promptId) {
        return mix(runSeed * 31 + promptId.hashCode());
    }

    /** SplitMix64's finalizer: spreads nearby inputs over all 64 bits. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
