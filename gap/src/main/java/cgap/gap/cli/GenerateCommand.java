package cgap.gap.cli;

import cgap.engine.hooks.HookRegistry;
import cgap.engine.runtime.Generator;
import cgap.engine.runtime.Transformer;
import cgap.models.Model;
import cgap.models.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
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
    @Mixin GraftOptions graft;

    @Override
    public Integer call() {
        int[] prompt = Tokens.parse(tokens);
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be at least 1");
        try (Model m = Model.load(model); GraftOptions.Grafted g = graft.open(m)) {
            Transformer t = m.transformer();
            Tokens.checkRange(prompt, t.vocab());
            Set<Integer> stop = ignoreEos ? Set.of() : m.eosIds();
            int[] out = generate(t, prompt, stop);
            if (g.description() == null) {
                System.out.println(json ? "{\"tokens\": [" + list(out) + "]}" : list(out));
                return 0;
            }
            // The case study: the same prompt under the graft, beside the native continuation.
            int[] grafted = generate(g.transformer(), prompt, stop);
            if (json) {
                System.out.println("{\"native\": [" + list(out) + "], \"grafted\": [" + list(grafted) + "]}");
            } else {
                System.out.println("native:  " + list(out));
                System.out.println("grafted: " + list(grafted) + "   (" + g.description() + ")");
                if (Files.isRegularFile(m.dir().resolve("tokenizer.json"))) {
                    Tokenizer tokenizer = Tokenizer.load(m.dir());
                    System.out.println("native text:  " + quoted(tokenizer.decode(out, false)));
                    System.out.println("grafted text: " + quoted(tokenizer.decode(grafted, false)));
                }
            }
        }
        return 0;
    }

    private int[] generate(Transformer t, int[] prompt, Set<Integer> stop) {
        HookRegistry registry = new HookRegistry();
        edits.register(registry);
        return Generator.greedy(t, prompt, maxNewTokens, stop, registry, id -> {});
    }

    /** Text on one line: newlines and tabs escaped, so the two continuations stay one line each. */
    private static String quoted(String text) {
        return "\"" + text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\"", "\\\"") + "\"";
    }

    private String list(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(json ? ", " : ","));
    }
}
