package cgap.gap.study;

/** How a prompt is presented to a model (see HOOKS-AND-METRICS.md, "Native regimes"). */
public enum Regime {
    /** The PT format (default B, "Question: ... Answer:") as raw text. */
    PT_RAW("pt_raw"),
    /** The IT format (default A) inside the instruction model's chat template, generation prompt added. */
    IT_NATIVE("it_native"),
    /** The IT format as raw text, without the template: the replay control. */
    IT_RAW("it_raw");

    public final String label;

    Regime(String label) { this.label = label; }
}
