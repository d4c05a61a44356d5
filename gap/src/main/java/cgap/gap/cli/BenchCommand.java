package cgap.gap.cli;

import cgap.gap.bench.EndToEndBench;
import cgap.gap.bench.SyntheticCheckpoint;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code cgap bench}: end-to-end prefill and decode speed beside the machine's bandwidth and FMA peak. */
@Command(name = "bench", description = "Measure prefill and decode tokens/s (medians after warm-up) against the machine's limits.")
final class BenchCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = "--model", paramLabel = "DIR") Path model;
        @Option(names = "--synthetic", paramLabel = "SHAPE",
                description = "Random-weight BF16 checkpoint of a known shape, generated once and cached: llama-3.2-1b, gemma-2-2b")
        String synthetic;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Source source;
    @Option(names = "--prefill", defaultValue = "128", paramLabel = "T") int prefill;
    @Option(names = "--decode", defaultValue = "32", paramLabel = "N") int decode;
    @Option(names = "--runs", defaultValue = "5", paramLabel = "K", description = "Timed runs (after one warm-up).") int runs;
    @Option(names = "--json", description = "Print one JSON object.") boolean json;

    @Override
    public Integer call() {
        Path dir = source.model != null ? source.model : SyntheticCheckpoint.ensure(SyntheticCheckpoint.Shape.byId(source.synthetic));
        EndToEndBench.Result r = EndToEndBench.run(dir, prefill, decode, runs, !json);
        System.out.println(json ? r.toJson() : r.toTable());
        // The table carries the warning; the JSON only its flag, so that stdout stays one parseable object.
        if (json && r.weightsReadSlowly()) System.err.println(r.slowReadWarning());
        return 0;
    }
}
