package cgap.gap.graft;

import cgap.engine.graft.LayerWindow;
import cgap.engine.graft.MlpGraft;
import cgap.engine.graft.Perturbation;
import cgap.engine.graft.PerturbedMlp;
import cgap.engine.runtime.Transformer;

/**
 * What a matched-prefix run does to the host's MLPs in a window: the real graft, or one of the paper's controls.
 * {@link #apply} returns the host as it runs under the intervention.
 */
public enum Intervention {
    /** The donor's MLPs replace the host's. */
    GRAFT("graft", false),
    /** The host's own MLPs grafted into itself: changes nothing, the effect must be exactly 0. */
    IDENTITY("identity", false),
    /** The donor's window MLPs in reversed layer order: donor layer (first + last - i) at host layer i. */
    PERMUTE("permute", false),
    /** host_out + d', d' keeping d = donor_out - host_out's component along the MLP input and the size of the rest. */
    RANDOM_PROJ("random-proj", true),
    /** host_out + d', d' a random direction with |d'| = |d|. */
    RANDOM_NORM("random-norm", true);

    /** The name used on the command line and in outputs. */
    public final String label;
    /** Whether it draws random directions, so that its results depend on a seed. */
    public final boolean seeded;

    Intervention(String label, boolean seeded) {
        this.label = label;
        this.seeded = seeded;
    }

    /** The host under this intervention ({@code seed} is used by the random controls only). */
    public Transformer apply(Transformer host, Transformer donor, LayerWindow window, long seed) {
        return switch (this) {
            case GRAFT -> MlpGraft.swap(host, donor, window);
            case IDENTITY -> MlpGraft.swap(host, host, window);
            case PERMUTE -> MlpGraft.swapReversed(host, donor, window);
            case RANDOM_PROJ -> MlpGraft.perturb(host, donor, window, Perturbation.RANDOM_PROJECTION, seed);
            case RANDOM_NORM -> MlpGraft.perturb(host, donor, window, Perturbation.RANDOM_NORM, seed);
        };
    }

    /** The seed of draw {@code draw} on one prompt of a run, for the seeded interventions. */
    public static long promptSeed(long runSeed, int draw, String promptId) {
        return PerturbedMlp.seedFor(runSeed * 1_000_003L + draw, promptId);
    }

    public static Intervention parse(String label) {
        for (Intervention i : values()) if (i.label.equals(label.trim())) return i;
        throw new IllegalArgumentException("unknown control '" + label.trim() + "' (expected identity, permute, random-proj or random-norm)");
    }
}
