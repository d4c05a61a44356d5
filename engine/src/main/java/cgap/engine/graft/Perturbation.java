package cgap.engine.graft;

/**
 * The paper's random controls for an MLP graft. Per token, with h the MLP's input row (the host's normalized
 * residual the MLP reads), u = h / |h|, and d = donor_out - host_out the change a real graft would make:
 * <ul>
 *   <li>{@link #RANDOM_NORM}: d' = |d| r, r a seeded random unit vector (only the size of the change kept);</li>
 *   <li>{@link #RANDOM_PROJECTION}: d' = (d.u) u + |d - (d.u) u| r, r a seeded random unit vector orthogonal to u
 *       (the change's signed component along the MLP input and the size of the rest kept, its direction not).</li>
 * </ul>
 * The perturbed MLP outputs host_out + d'. When h is zero there is no input direction: the projection is 0 and r
 * is unconstrained.
 */
public enum Perturbation {
    RANDOM_PROJECTION("random-proj"), RANDOM_NORM("random-norm");

    /** The name used on the command line and in outputs. */
    public final String label;

    Perturbation(String label) { this.label = label; }

    /**
     * Writes d' for one token into {@code out[o .. o+n)}, from d = {@code donorOut - hostOut} and the MLP input
     * {@code h}, all rows of length n at offset o, with {@code random} a standard-normal vector of length n (the
     * seeded direction before it is constrained and normalized). Sums in float64.
     */
    public void change(float[] h, float[] hostOut, float[] donorOut, int o, int n, double[] random, double[] out) {
        double[] u = unit(h, o, n); // null when h is zero
        double[] r = random.clone();
        double[] kept = new double[n]; // the part of d that stays as it is: its component along u (random-proj)
        double[] rest = new double[n]; // the part whose direction is replaced
        for (int i = 0; i < n; i++) rest[i] = (double) donorOut[o + i] - hostOut[o + i];
        if (this == RANDOM_PROJECTION && u != null) {
            double along = dot(rest, u);
            double ru = dot(r, u);
            for (int i = 0; i < n; i++) {
                kept[i] = along * u[i];
                rest[i] -= kept[i];
                r[i] -= ru * u[i];
            }
        }
        double size = Math.sqrt(dot(rest, rest));
        double rNorm = Math.sqrt(dot(r, r));
        for (int i = 0; i < n; i++) out[i] = kept[i] + (rNorm == 0 ? 0 : size * r[i] / rNorm);
    }

    private static double[] unit(float[] h, int o, int n) {
        double norm = 0;
        for (int i = 0; i < n; i++) norm += (double) h[o + i] * h[o + i];
        if (norm == 0) return null;
        norm = Math.sqrt(norm);
        double[] u = new double[n];
        for (int i = 0; i < n; i++) u[i] = h[o + i] / norm;
        return u;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    public static Perturbation parse(String label) {
        for (Perturbation p : values()) if (p.label.equals(label)) return p;
        throw new IllegalArgumentException("unknown perturbation '" + label + "' (expected random-proj or random-norm)");
    }
}
