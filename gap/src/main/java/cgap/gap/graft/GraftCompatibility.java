package cgap.gap.graft;

import cgap.models.DecoderSpec;
import cgap.models.Model;

import java.util.Objects;

/**
 * Whether two checkpoints can exchange MLPs: the same family and architecture, and the same shapes wherever an
 * MLP reads or writes. A PT model and its IT sibling pass; anything else is refused naming the first mismatch.
 * (The engine re-checks each grafted MLP's weight shapes; this catches family mismatches the shapes cannot see.)
 */
public final class GraftCompatibility {
    private GraftCompatibility() {}

    public static void require(Model host, Model donor) {
        String problem = mismatch(host.spec(), donor.spec());
        if (problem != null) {
            throw new IllegalArgumentException("cannot graft between " + host.dir() + " (host) and " + donor.dir()
                    + " (donor): " + problem);
        }
    }

    /** The first difference that rules out a graft, or null. */
    public static String mismatch(DecoderSpec host, DecoderSpec donor) {
        if (!host.family().equals(donor.family())) return "family " + host.family() + " vs " + donor.family();
        if (!host.architecture().equals(donor.architecture())) {
            return "architecture " + host.architecture() + " vs " + donor.architecture();
        }
        if (host.layers() != donor.layers()) return "layers " + host.layers() + " vs " + donor.layers();
        if (host.hidden() != donor.hidden()) return "hidden size " + host.hidden() + " vs " + donor.hidden();
        if (host.intermediate() != donor.intermediate()) {
            return "MLP intermediate size " + host.intermediate() + " vs " + donor.intermediate();
        }
        if (host.act() != donor.act()) return "activation " + host.act() + " vs " + donor.act();
        if (host.norms() != donor.norms()) return "norm placement " + host.norms() + " vs " + donor.norms();
        if (!Objects.equals(host.moe(), donor.moe())) return "mixture-of-experts layout " + host.moe() + " vs " + donor.moe();
        return null;
    }
}
