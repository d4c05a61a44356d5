package cgap.gap.cli;

import cgap.models.chat.ChatMessage;
import cgap.models.chat.ChatTemplate;
import cgap.models.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The tokenizer commands: tokenize, detokenize, chat-template. */
public final class TokenizeCommands {
    private TokenizeCommands() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Standard output as UTF-8 whatever the platform's console encoding is: token text is Unicode. */
    private static PrintWriter utf8Out() {
        return new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), false);
    }

    private static String joinIds(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    private static String idsJson(int[] ids) throws IOException {
        return JSON.writeValueAsString(java.util.Map.of("ids", ids));
    }

    /** A file's text, refusing bytes that are not UTF-8 rather than guessing. */
    private static String readUtf8(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not valid UTF-8 text");
        }
    }

    @Command(name = "tokenize", mixinStandardHelpOptions = true,
            description = "Print the token ids of text, as HF tokenizers' encode(text, add_special_tokens=True) gives.")
    public static final class Tokenize implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "DIR",
                description = "Directory holding tokenizer.json (and tokenizer_config.json).")
        Path tokenizerDir;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Input input;

        static final class Input {
            @Option(names = "--text", paramLabel = "STR", description = "The text to encode.")
            String text;

            @Option(names = "--file", paramLabel = "F", description = "Encode the whole UTF-8 file as one text.")
            Path file;

            @Option(names = "--batch", paramLabel = "F.jsonl",
                    description = "One JSON string per line; one output line per input line.")
            Path batch;
        }

        @Option(names = "--no-special", description = "Do not add special tokens (add_special_tokens=False).")
        boolean noSpecial;

        @Option(names = "--json", description = "Print {\"ids\": [...]} instead of comma-separated ids.")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Tokenizer tokenizer = Tokenizer.load(tokenizerDir);
            PrintWriter out = utf8Out();
            if (input.batch != null) {
                try (BufferedReader lines = Files.newBufferedReader(input.batch, StandardCharsets.UTF_8)) {
                    String line;
                    int number = 0;
                    while ((line = lines.readLine()) != null) {
                        number++;
                        JsonNode value;
                        try {
                            value = JSON.readTree(line);
                        } catch (IOException e) {
                            throw new IllegalArgumentException(input.batch + " line " + number + ": not JSON");
                        }
                        if (value == null || !value.isTextual()) {
                            throw new IllegalArgumentException(input.batch + " line " + number + ": not a JSON string");
                        }
                        print(out, tokenizer.encode(value.asText(), !noSpecial));
                    }
                } catch (java.nio.charset.MalformedInputException e) {
                    throw new IllegalArgumentException(input.batch + ": not valid UTF-8 text");
                }
            } else {
                String text = input.text != null ? input.text : readUtf8(input.file);
                print(out, tokenizer.encode(text, !noSpecial));
            }
            out.flush();
            return 0;
        }

        private void print(PrintWriter out, int[] ids) throws IOException {
            out.println(json ? idsJson(ids) : joinIds(ids));
        }
    }

    @Command(name = "detokenize", mixinStandardHelpOptions = true,
            description = "Print the text of token ids, as HF tokenizers' decode gives.")
    public static final class Detokenize implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "DIR",
                description = "Directory holding tokenizer.json.")
        Path tokenizerDir;

        @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Comma-separated ids, e.g. 1,2,3.")
        String tokens;

        @Option(names = "--skip-special", description = "Leave special tokens out (skip_special_tokens=True).")
        boolean skipSpecial;

        @Override
        public Integer call() {
            Tokenizer tokenizer = Tokenizer.load(tokenizerDir);
            int[] ids = Tokens.parse(tokens);
            PrintWriter out = utf8Out();
            out.println(tokenizer.decode(ids, skipSpecial));
            out.flush();
            return 0;
        }
    }

    @Command(name = "chat-template", mixinStandardHelpOptions = true,
            description = "Render a conversation with the tokenizer's chat template, as transformers' apply_chat_template.")
    public static final class ChatTemplateCommand implements Callable<Integer> {
        @Option(names = "--tokenizer", required = true, paramLabel = "DIR",
                description = "Directory holding tokenizer_config.json (or chat_template.jinja) and tokenizer.json.")
        Path tokenizerDir;

        @Option(names = "--messages", required = true, paramLabel = "FILE.json",
                description = "JSON array of {\"role\": ..., \"content\": ...}.")
        Path messagesFile;

        @Option(names = "--no-generation-prompt", description = "Do not end with the assistant turn's opening.")
        boolean noGenerationPrompt;

        @Option(names = "--tokens", description = "Print the prompt's token ids (no special tokens added) instead of its text.")
        boolean tokens;

        @Override
        public Integer call() throws IOException {
            ChatTemplate template = ChatTemplate.load(tokenizerDir).orElseThrow(() -> new IllegalArgumentException(
                    tokenizerDir + ": no chat_template in tokenizer_config.json and no chat_template.jinja"));
            String prompt = template.render(readMessages(messagesFile), !noGenerationPrompt);
            PrintWriter out = utf8Out();
            if (tokens) {
                // transformers tokenizes the rendered prompt with add_special_tokens=False: the template wrote them.
                out.println(joinIds(Tokenizer.load(tokenizerDir).encode(prompt, false)));
            } else {
                out.print(prompt);
            }
            out.flush();
            return 0;
        }

        private static List<ChatMessage> readMessages(Path file) throws IOException {
            JsonNode root;
            try {
                root = JSON.readTree(readUtf8(file));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException(file + ": malformed JSON: " + e.getOriginalMessage());
            }
            if (root == null || !root.isArray()) {
                throw new IllegalArgumentException(file + ": must be a JSON array of {\"role\", \"content\"} objects");
            }
            List<ChatMessage> messages = new ArrayList<>();
            for (int i = 0; i < root.size(); i++) {
                JsonNode m = root.get(i);
                if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                    throw new IllegalArgumentException(file + ": message " + i + " needs string \"role\" and \"content\"");
                }
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
            }
            return messages;
        }
    }
}
