package cgap.bench;

import cgap.engine.Tensor;
import cgap.engine.safetensors.Checkpoint;
import cgap.gap.bench.EndToEndBench;
import cgap.kernels.DType;
import cgap.kernels.JitWarmup;
import cgap.kernels.MachineProbe;
import cgap.kernels.MatMul;
import cgap.kernels.WeightMatrix;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Decode (T = 1) matmul speed per kind of matrix of a Llama-style BF16 checkpoint, as a fraction of a plain read
 * of the same bytes: where {@code cgap bench} gives one figure for a whole decode step, this says which matrices
 * keep up with memory and which do not.
 *
 * <p>Per round and per group (q/k/v together as in a layer, o, gate/up together, down, the unembedding), the
 * group's matmuls run over every layer, then {@link MachineProbe#readGBs} reads the same segments; the fraction
 * is read time / matmul time, taken in the same moments because the memory's speed on a shared VM drifts within
 * seconds. It prints each round's fraction and the median. The first round is a warm-up and is not counted.
 *
 * <p>Run from the repository root (the synthetic checkpoint comes from {@code ./cgap bench --synthetic llama-3.2-1b}):
 * <pre>
 *   mvn -q -B -pl bench -am package -DskipTests
 *   java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED [-XX:UseAVX=2] \
 *        -cp gap/target/cgap.jar:bench/target/classes cgap.bench.DecodeShapesBench \
 *        [--model ~/.cache/cgap/synthetic/llama-3.2-1b] [--rounds 9]
 * </pre>
 */
public final class DecodeShapesBench {
    private record Group(String label, String... suffixes) {}

    private static final List<Group> GROUPS = List.of(
            new Group("q/k/v", "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"),
            new Group("o", "self_attn.o_proj"),
            new Group("gate/up", "mlp.gate_proj", "mlp.up_proj"),
            new Group("down", "mlp.down_proj"));

    private DecodeShapesBench() {}

    public static void main(String[] args) {
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "cgap", "synthetic", "llama-3.2-1b");
        int rounds = 9;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> dir = Path.of(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (expected --model DIR, --rounds N)");
            }
        }
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be positive, got " + rounds);
        JitWarmup.run();
        try (Checkpoint checkpoint = Checkpoint.open(dir)) {
            List<String> labels = new ArrayList<>();
            List<List<WeightMatrix[]>> calls = new ArrayList<>();
            for (Group g : GROUPS) {
                List<WeightMatrix[]> layers = new ArrayList<>();
                for (int layer = 0; checkpoint.contains(name(layer, g.suffixes()[0])); layer++) {
                    WeightMatrix[] ws = new WeightMatrix[g.suffixes().length];
                    for (int i = 0; i < ws.length; i++) ws[i] = matrix(checkpoint, name(layer, g.suffixes()[i]));
                    layers.add(ws);
                }
                if (layers.isEmpty()) throw new IllegalArgumentException(dir + ": no " + name(0, g.suffixes()[0]));
                labels.add(g.label());
                calls.add(layers);
            }
            String unembedding = checkpoint.contains("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight";
            labels.add("unembed");
            calls.add(List.<WeightMatrix[]>of(new WeightMatrix[] {matrix(checkpoint, unembedding)}));

            double[][] fractions = new double[labels.size()][rounds];
            SplittableRandom random = new SplittableRandom(1);
            for (int round = -1; round < rounds; round++) {
                for (int g = 0; g < calls.size(); g++) {
                    double fraction = fraction(calls.get(g), random);
                    if (round >= 0) fractions[g][round] = fraction;
                }
            }
            System.out.printf(Locale.ROOT, "%s, %d rounds: decode matmul time as a fraction of a plain read of the same bytes%n", dir, rounds);
            for (int g = 0; g < labels.size(); g++) {
                StringBuilder each = new StringBuilder();
                for (double f : fractions[g]) each.append(String.format(Locale.ROOT, " %.2f", f));
                System.out.printf(Locale.ROOT, "%-8s median %.2f  [%s ]%n", labels.get(g), EndToEndBench.median(fractions[g]), each);
            }
        }
    }

    /** One pass of the group's matmuls over all its layers (the unembedding: four passes), against a read of the same bytes. */
    private static double fraction(List<WeightMatrix[]> layers, SplittableRandom random) {
        int cols = layers.getFirst()[0].cols();
        float[] x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float) (random.nextDouble() - 0.5);
        List<MemorySegment> segments = new ArrayList<>();
        List<float[][]> outs = new ArrayList<>();
        for (WeightMatrix[] ws : layers) {
            float[][] out = new float[ws.length][];
            for (int i = 0; i < ws.length; i++) {
                out[i] = new float[ws[i].rows()];
                segments.add(ws[i].data());
            }
            outs.add(out);
        }
        double bytes = segments.stream().mapToLong(MemorySegment::byteSize).sum();
        int passes = layers.size() == 1 ? 4 : 1;
        double matmulSeconds = 0, readSeconds = 0;
        for (int pass = 0; pass < passes; pass++) {
            long start = System.nanoTime();
            for (int l = 0; l < layers.size(); l++) MatMul.matmulEach(x, 1, layers.get(l), outs.get(l));
            matmulSeconds += (System.nanoTime() - start) / 1e9;
            readSeconds += bytes / (MachineProbe.readGBs(segments, 1) * 1e9);
        }
        return readSeconds / matmulSeconds;
    }

    private static String name(int layer, String suffix) {
        return "model.layers." + layer + "." + suffix + ".weight";
    }

    private static WeightMatrix matrix(Checkpoint checkpoint, String name) {
        Tensor t = checkpoint.tensor(name);
        if (t.dtype() != DType.BF16 || t.rank() != 2) {
            throw new IllegalArgumentException(name + ": expected a 2-D BF16 tensor, got " + t.dtype() + " " + Arrays.toString(t.shape()));
        }
        return new WeightMatrix(t.data(), DType.BF16, (int) t.shape()[0], (int) t.shape()[1]);
    }

}
