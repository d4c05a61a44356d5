package cgap.gap.study;

import java.nio.file.Path;

/**
 * What a study run reads and how.
 *
 * @param ptFormat         the prompt format the PT model reads raw (default "B")
 * @param itFormat         the prompt format the IT model reads in its chat template, and raw for it_raw (default "A")
 * @param limit            the first {@code limit} prompts only (0: all)
 * @param seed             seed of the bootstrap intervals (decoding is greedy, so nothing else is random)
 * @param bootstrapSamples resamples per interval
 * @param replay           also force each native continuation through the other regimes and models
 */
public record StudyOptions(Path ptDir, Path itDir, Path promptsFile, Path outDir, int maxNewTokens, int limit,
                           long seed, String ptFormat, String itFormat, int bootstrapSamples, boolean replay) {

    public StudyOptions {
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        if (limit < 0) throw new IllegalArgumentException("--limit must be >= 0, got " + limit);
        if (bootstrapSamples < 1) throw new IllegalArgumentException("--bootstrap must be at least 1, got " + bootstrapSamples);
    }
}
