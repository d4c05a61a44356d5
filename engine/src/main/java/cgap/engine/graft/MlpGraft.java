package cgap.engine.graft;

import cgap.engine.runtime.Block;
import cgap.engine.runtime.GatedMlp;
import cgap.engine.runtime.MixtureOfExperts;
import cgap.engine.runtime.MlpLayer;
import cgap.engine.runtime.Transformer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;

/**
 * MLP grafts between two checkpoints of one architecture, as the paper does them: at every host layer i of the
 * window, the donor's MLP runs on the host's MLP input (after the host's own pre-MLP norm) and its output replaces
 * the host's (before the host's post-MLP norm where the family has one). Everything else (embeddings, attention,
 * norms, unembedding) stays the host's. The result is a new {@link Transformer} sharing both models' weights;
 * nothing is copied, so a memory-mapped donor costs only the pages of the window's MLPs.
 *
 * <p>Where a layer's MLP is a mixture of experts, the whole MoE block moves, router and shared experts included.
 */
public final class MlpGraft {
    private MlpGraft() {}

    /** The donor's MLP at each host layer of the window. Grafting a model into itself changes nothing. */
    public static Transformer swap(Transformer host, Transformer donor, LayerWindow window) {
        check(host, donor, window, i -> i);
        return replace(host, window, i -> donor.blocks().get(i).mlp());
    }

    /** The window's donor MLPs in reversed order: donor layer (first + last - i) at host layer i. */
    public static Transformer swapReversed(Transformer host, Transformer donor, LayerWindow window) {
        check(host, donor, window, window::mirror);
        return replace(host, window, i -> donor.blocks().get(window.mirror(i)).mlp());
    }

    /** The random control: at each window layer, host_out plus the {@link Perturbation} of donor_out - host_out. */
    public static Transformer perturb(Transformer host, Transformer donor, LayerWindow window, Perturbation kind, long seed) {
        check(host, donor, window, i -> i);
        return replace(host, window, i -> new PerturbedMlp(host.blocks().get(i).mlp(), donor.blocks().get(i).mlp(), kind, seed));
    }

    private static Transformer replace(Transformer host, LayerWindow window, IntFunction<MlpLayer> mlpAt) {
        List<Block> blocks = new ArrayList<>(host.blocks());
        for (int i = window.first(); i <= window.last(); i++) blocks.set(i, blocks.get(i).withMlp(mlpAt.apply(i)));
        return host.withBlocks(blocks);
    }

    /**
     * Refuses a graft whose donor MLPs could not stand in for the host's: a different hidden size or depth, a
     * window outside the model, or at any window layer a different MLP kind, activation or weight shape. The
     * message names the first mismatch.
     */
    public static void checkCompatible(Transformer host, Transformer donor, LayerWindow window) {
        check(host, donor, window, i -> i);
    }

    /** As {@link #checkCompatible}, with host layer i receiving donor layer source(i). */
    private static void check(Transformer host, Transformer donor, LayerWindow window, IntUnaryOperator source) {
        if (host.hidden() != donor.hidden()) {
            throw new IllegalArgumentException("cannot graft: host hidden size " + host.hidden() + " != donor hidden size " + donor.hidden());
        }
        if (host.layers() != donor.layers()) {
            throw new IllegalArgumentException("cannot graft: host has " + host.layers() + " layers, donor " + donor.layers());
        }
        if (window.last() >= host.layers()) {
            throw new IllegalArgumentException("cannot graft window " + window + ": the models have layers 0.." + (host.layers() - 1));
        }
        for (int i = window.first(); i <= window.last(); i++) {
            int j = source.applyAsInt(i);
            String problem = mismatch(host.blocks().get(i).mlp(), donor.blocks().get(j).mlp());
            if (problem != null) {
                throw new IllegalArgumentException("cannot graft donor layer " + j + " into host layer " + i + ": " + problem);
            }
        }
    }

    /** Why {@code donor} cannot replace {@code host}, or null when it can. */
    static String mismatch(MlpLayer host, MlpLayer donor) {
        if (host.getClass() != donor.getClass()) {
            return "host MLP is " + kind(host) + ", donor MLP is " + kind(donor);
        }
        if (host instanceof MixtureOfExperts h && donor instanceof MixtureOfExperts d) {
            if (h.experts().size() != d.experts().size() || h.topK() != d.topK()) {
                return "host MoE has " + h.experts().size() + " experts (top " + h.topK() + "), donor " + d.experts().size() + " (top " + d.topK() + ")";
            }
            if ((h.shared() == null) != (d.shared() == null)) return "only one of the MoE blocks has shared experts";
            String expert = mismatch(h.experts().getFirst(), d.experts().getFirst());
            if (expert != null) return "routed experts differ: " + expert;
            return h.shared() == null ? null : mismatch(h.shared(), d.shared());
        }
        if (host instanceof GatedMlp h && donor instanceof GatedMlp d) {
            if (h.act() != d.act()) return "host activation " + h.act() + " != donor activation " + d.act();
            if (h.gate().rows() != d.gate().rows() || h.gate().cols() != d.gate().cols() || h.down().rows() != d.down().rows()) {
                return "host MLP [hidden " + h.gate().cols() + ", intermediate " + h.gate().rows() + "] != donor MLP [hidden "
                        + d.gate().cols() + ", intermediate " + d.gate().rows() + "]";
            }
        }
        return null;
    }

    /** A short name of an MLP kind for messages. */
    public static String kind(MlpLayer mlp) {
        return switch (mlp) {
            case GatedMlp g -> "a dense GLU MLP";
            case MixtureOfExperts m -> "a mixture of experts";
            default -> mlp.getClass().getSimpleName();
        };
    }

    /** Whether any window layer of {@code model} is a mixture of experts (whose graft moves router and all experts). */
    public static boolean movesWholeMoeBlocks(Transformer model, LayerWindow window) {
        for (int i = window.first(); i <= window.last(); i++) if (model.blocks().get(i).mlp() instanceof MixtureOfExperts) return true;
        return false;
    }
}
