package cgap.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Locates the repository's test fixtures (surefire passes the repo root as cgap.repo.root). */
final class Fixtures {
    private Fixtures() {}

    static Path repoRoot() {
        String root = System.getProperty("cgap.repo.root");
        return root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize();
    }

    static Path hf() { return repoRoot().resolve("tests/fixtures/hf"); }

    /** Every HF reference case directory (one with a reference.json), sorted by name. */
    static List<Path> hfCases() {
        try (Stream<Path> dirs = Files.list(hf())) {
            List<Path> cases = dirs.filter(d -> Files.isRegularFile(d.resolve("reference.json"))).sorted().toList();
            if (cases.isEmpty()) throw new IllegalStateException("no HF fixture cases under " + hf());
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /** Largest |a - b| over n values, relative to the reference's largest |value|. */
    static double relativeError(float[] actual, float[] reference, int n) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < n; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) actual[i] - reference[i]));
            maxRef = Math.max(maxRef, Math.abs(reference[i]));
        }
        return maxDiff / Math.max(maxRef, 1e-30);
    }
}
