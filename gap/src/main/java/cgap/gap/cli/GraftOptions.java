package cgap.gap.cli;

import cgap.engine.graft.LayerWindow;
import cgap.engine.graft.MlpGraft;
import cgap.engine.runtime.Transformer;
import cgap.gap.graft.GraftCompatibility;
import cgap.models.Model;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code --graft-from DIR --window SPEC [--component mlp]}: run the model with another checkpoint's MLPs in a
 * window of layers (the paper's graft: the donor's MLP reads this model's MLP input, its output replaces this
 * model's MLP output; everything else stays). Combines with --edit and the other options of a command.
 */
final class GraftOptions {
    @Option(names = "--graft-from", paramLabel = "DIR",
            description = "Donor checkpoint (same family and shapes) whose MLPs replace this model's in --window.")
    Path graftFrom;

    @Option(names = "--window", paramLabel = LayerWindow.NAMES,
            description = "Layers the graft covers: early, mid, late (about 40% of depth each) or an end-inclusive range A-B.")
    String window;

    @Option(names = "--component", defaultValue = "mlp", paramLabel = "mlp", description = "What is grafted (only mlp).")
    String component;

    boolean active() { return graftFrom != null; }

    /** The model as it runs: grafted when --graft-from is given, else unchanged. Close it to unmap the donor. */
    Grafted open(Model host) {
        if (graftFrom == null) {
            if (window != null) throw new IllegalArgumentException("--window needs --graft-from DIR");
            return new Grafted(host.transformer(), null, null);
        }
        if (window == null) throw new IllegalArgumentException("--graft-from needs --window " + LayerWindow.NAMES);
        if (!component.equals("mlp")) throw new IllegalArgumentException("--component '" + component + "': only mlp can be grafted");
        LayerWindow w = LayerWindow.parse(window, host.spec().layers());
        Model donor = Model.load(graftFrom);
        try {
            GraftCompatibility.require(host, donor);
            Transformer grafted = MlpGraft.swap(host.transformer(), donor.transformer(), w);
            String what = "MLPs of layers " + w + " from " + donor.dir();
            if (MlpGraft.movesWholeMoeBlocks(host.transformer(), w)) {
                what += " (mixture-of-experts layers: the whole MoE block moves, router and shared experts included)";
            }
            return new Grafted(grafted, donor, what);
        } catch (RuntimeException e) {
            donor.close();
            throw e;
        }
    }

    /** A model under a graft; {@code description} is null when nothing is grafted. */
    record Grafted(Transformer transformer, Model donor, String description) implements AutoCloseable {
        @Override
        public void close() {
            if (donor != null) donor.close();
        }
    }
}
