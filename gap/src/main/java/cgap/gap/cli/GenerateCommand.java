package cgap.gap.cli;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Generator;
import cgap.engine.runtime.Transformer;
import cgap.models.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code cgap generate}: greedy continuation of a token prompt. */
@Command(name = "generate", description = "Greedy generation from token ids.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR") Path model;
    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Comma-separated prompt token ids.") String tokens;
    @Option(names = "--max-new-tokens", defaultValue = "32", paramLabel = "N") int maxNewTokens;
    @Option(names = "--ignore-eos", description = "Do not stop at the model's end-of-sequence tokens.") boolean ignoreEos;
    @Option(names = "--json", description = "Print {\"tokens\": [...]} instead of a plain list.") boolean json;
    @Mixin EditOptions edits;

    @Override
    public Integer call() {
        int[] prompt = Tokens.parse(tokens);
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be at least 1");
        try (Model m = Model.load(model)) {
            Transformer t = m.transformer();
            Tokens.checkRange(prompt, t.vocab());
            HookRegistry registry = new HookRegistry();
            edits.register(registry);
            Set<Integer> stop = ignoreEos ? Set.of() : m.eosIds();
            int[] out = Generator.greedy(t, prompt, maxNewTokens, stop, registry, id -> {});
            String list = Arrays.stream(out).mapToObj(Integer::toString).collect(Collectors.joining(json ? ", " : ","));
            System.out.println(json ? "{\"tokens\": [" + list + "]}" : list);
        }
        return 0;
    }
}
