package cgap.gap.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EndToEndBenchTest {
    /** 2.4 GB of weights per token at 10 tokens/s is 24 GB/s: 0.8 of a 30 GB/s read. */
    private static EndToEndBench.Result result(double readGbs, double probeGbs) {
        return new EndToEndBench.Result("m", 128, 32, 80.0, 10.0, 2.4e9, readGbs, probeGbs, 400.0, 2.5, 2);
    }

    @Test
    void decodeIsReportedAsAFractionOfTheSameMomentRead() {
        EndToEndBench.Result r = result(30.0, 60.0);
        assertEquals(0.8, r.decodeBandwidthFraction(), 1e-12);
        assertEquals(0.5, r.prefillPeakFraction(), 1e-12); // 2.5 GFLOP per token at 80 tokens/s of a 400 GFLOP/s peak
        assertTrue(r.toJson().contains("\"decode_bandwidth_fraction\": 0.800"), r.toJson());
        assertTrue(r.toTable().contains("80% of the 30.00 GB/s a plain read of them reaches"), r.toTable());
    }

    @Test
    void warnsWhenTheWeightsReadFarBelowTheMemorysBandwidth() {
        EndToEndBench.Result slow = result(2.5, 60.0);
        assertTrue(slow.weightsReadSlowly());
        assertTrue(slow.toTable().contains("warning: the weights read at 2.50 GB/s"), slow.toTable());
        assertTrue(slow.toJson().endsWith("\"weights_read_slowly\": true}"), slow.toJson());
        EndToEndBench.Result fine = result(15.0, 60.0); // exactly a quarter: no warning
        assertFalse(fine.weightsReadSlowly());
        assertFalse(fine.toTable().contains("warning"), fine.toTable());
        assertTrue(fine.toJson().endsWith("\"weights_read_slowly\": false}"), fine.toJson());
    }
}
