"""Write golden token ids, decodes and rendered chat prompts for the tokenizer tests.

Reference: HF `tokenizers` on tokenizer.json for ids and decodes (the library's behaviour on the
file, not transformers' slow-tokenizer rebuild), and transformers' apply_chat_template(tokenize=False)
on the real tokenizer_config.json chat templates.

Inputs: the real tokenizers fetched by scripts/fetch_tokenizers.sh into .cache/tokenizers/<name>/,
plus two tiny tokenizers this script trains with HF `tokenizers` and writes next to the goldens
(tests/fixtures/tokenizers/tiny-bytelevel, tiny-metaspace) so the components the real files do not
use (ByteLevel regex and prefix space, Metaspace, Digits, lstrip/rstrip/single_word added tokens)
are covered too.

Run: /work/main/.venv/bin/python scripts/gen_tokenizer_goldens.py
"""
import datetime
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers, AddedToken
import transformers
import transformers.utils.chat_template_utils as chat_template_utils

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, ".cache", "tokenizers")
OUT = os.path.join(REPO, "tests", "fixtures", "tokenizers")
REAL = ["llama3", "gemma3", "qwen3", "llama2"]

# The date strftime_now sees; ChatTemplate's tests inject the same instant.
FIXED_NOW = datetime.datetime(2024, 7, 26, 14, 5, 9)

HARD_STRINGS = [
    "",
    " ",
    "  ",
    "     ",
    "\n",
    "\t",
    "\n\n\n",
    " \n \n",
    "\r\n",
    "Hello world",
    " Hello world",
    "Hello world ",
    "  leading and trailing  ",
    "Hello   world\twith\t\ttabs",
    "line one\nline two\n\nline four\n",
    "Café naïve résumé façade Ångström",
    "e\u0301 and o\u0308 and n\u0303: combining marks",
    "\u00c5 vs A\u030a (composed vs decomposed)",
    "日本語のテキストです。中文文本，한국어 텍스트",
    "👨‍👩‍👧‍👦 family, 👍🏽 thumbs, 🏳️‍🌈 flag",
    "🤗🤗🤗",
    "مرحبا بالعالم، هذا نص عربي",
    "Привет, мир! Ελληνικά κείμενο",
    "def foo(x):\n    if x > 0:\n        return x * 2\n    return None\n",
    "\tindented with tab\n\t\tdouble",
    "12345678901234567890",
    "3.14159265358979 and 1,000,000 and 0x1F",
    "١٢٣٤ Arabic-Indic digits and ½ ²",
    "https://huggingface.co/docs/tokenizers/api/pre-tokenizers?x=1&y=2#anchor",
    "user@example.com wrote: \"it's, we're, I'll, you'd, they've, I'm\"",
    "IT'S WE'RE I'LL YOU'D THEY'VE I'M",
    "Supercalifragilisticexpialidocious" * 8,
    "a" * 300,
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
    "<s>Hello</s>",
    "<bos>text<eos>",
    "<|begin_of_text|>Hi<|eot_id|>",
    "<|im_start|>user\nHi<|im_end|>",
    "<start_of_turn>user\nHello<end_of_turn>",
    "text <unused0> more",
    "almost <|im_start special",
    "!!!??? ... --- ***",
    "    four leading spaces",
    "trailing spaces    ",
    "mixed \u00a0nbsp\u3000ideographic\u2009thin spaces",
    "\u2028line separator\u2029paragraph",
    "Tschüß ſtraße ǅ ﬁ ligature",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "x = [1, 2, 3]; y = {'a': 1}\n",
    "# Title\n\n- item one\n- item two\n\n```python\nprint('hi')\n```",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "∑∫√∞≠≤≥ math symbols αβγ",
    "\x00\x01\x7f control chars",
    "emoji at end 🎉",
    "😀",
    " 😀 ",
    "A\u0000B",
]


def special_token_strings(tok):
    return {t.content for t in tok.get_added_tokens_decoder().values() if t.special}


def encode_cases(tok):
    cases = []
    for text in HARD_STRINGS:
        with_special = tok.encode(text, add_special_tokens=True).ids
        without_special = tok.encode(text, add_special_tokens=False).ids
        cases.append({
            "text": text,
            "ids": with_special,
            "ids_no_special": without_special,
            "decoded": tok.decode(with_special, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(with_special, skip_special_tokens=True),
        })
    return cases


def decode_cases(tok):
    """Arbitrary id sequences: prefixes that cut a multi-byte character, special tokens mid-text."""
    cases = []
    for text in ["👨‍👩‍👧‍👦 family", "日本語のテキスト", "Café naïve", " 😀 "]:
        ids = tok.encode(text, add_special_tokens=False).ids
        for cut in range(1, len(ids)):
            cases.append(ids[:cut])
    specials = sorted(tok.get_added_tokens_decoder().items())[:3]
    hello = tok.encode(" Hello world", add_special_tokens=False).ids
    cases.append([specials[0][0]] + hello + [specials[-1][0]] + hello)
    cases.append(hello + [specials[1][0]])
    out = []
    for ids in cases:
        out.append({
            "ids": ids,
            "text": tok.decode(ids, skip_special_tokens=False),
            "text_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    return out


CONVERSATIONS = [
    ("single_turn", [{"role": "user", "content": "What is the capital of France?"}]),
    ("system_user", [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Name three primes."},
    ]),
    ("multi_turn", [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hi there!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "  Tell me a joke.\n"},
    ]),
    ("multi_turn_no_system", [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
        {"role": "assistant", "content": "6"},
    ]),
    ("unicode_content", [{"role": "user", "content": "Ünïcödé 日本語 👨‍👩‍👧 \"quotes\" and {braces}"}]),
    ("reasoning_history", [
        {"role": "user", "content": "Is 7 prime?"},
        {"role": "assistant", "content": "<think>\nCheck divisors 2..2.\n</think>\n\nYes, 7 is prime."},
        {"role": "user", "content": "And 9?"},
        {"role": "assistant", "content": "<think>\n9 = 3 * 3\n</think>\n\nNo."},
    ]),
]


def fixed_clock():
    class FixedDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return FIXED_NOW

    chat_template_utils.datetime = FixedDatetime
    chat_template_utils._compile_jinja_template.cache_clear()


def chat_cases(directory, tok):
    config = json.load(open(os.path.join(directory, "tokenizer_config.json")))
    has_file = os.path.exists(os.path.join(directory, "chat_template.jinja"))
    if config.get("chat_template") is None and not has_file:
        return []
    hf = transformers.AutoTokenizer.from_pretrained(directory)
    cases = []
    for name, messages in CONVERSATIONS:
        for generation_prompt in (True, False):
            text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)
            cases.append({
                "name": name,
                "messages": messages,
                "add_generation_prompt": generation_prompt,
                "text": text,
                "ids": tok.encode(text, add_special_tokens=False).ids,
            })
    return cases


def chat_errors(directory):
    """Conversations the template itself rejects with raise_exception."""
    config = json.load(open(os.path.join(directory, "tokenizer_config.json")))
    template = config.get("chat_template")
    if not isinstance(template, str) or "raise_exception" not in template:
        return []
    hf = transformers.AutoTokenizer.from_pretrained(directory)
    errors = []
    for messages in ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
                     [{"role": "user", "content": "a"}, {"role": "tool", "content": "b"}]):
        try:
            hf.apply_chat_template(messages, tokenize=False)
        except Exception as error:  # jinja2 TemplateError from raise_exception
            errors.append({"messages": messages, "message": str(error)})
    return errors


def info(directory, tok):
    config = json.load(open(os.path.join(directory, "tokenizer_config.json")))

    def token_text(key):
        value = config.get(key)
        return value["content"] if isinstance(value, dict) else value

    bos, eos = token_text("bos_token"), token_text("eos_token")
    return {
        "vocab_size": max(max(tok.get_vocab(with_added_tokens=True).values()) + 1, 0),
        "bos_id": tok.token_to_id(bos) if bos else None,
        "eos_id": tok.token_to_id(eos) if eos else None,
        "special_ids": sorted(i for i, t in tok.get_added_tokens_decoder().items() if t.special),
    }


def write_golden(name, directory):
    tok = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    golden = {
        "tokenizer": name,
        "generated_by": "scripts/gen_tokenizer_goldens.py with tokenizers %s, transformers %s"
                        % (__import__("tokenizers").__version__, transformers.__version__),
        "fixed_now": FIXED_NOW.isoformat(),
        "info": info(directory, tok),
        "cases": encode_cases(tok),
        "decode_cases": decode_cases(tok),
        "chat": chat_cases(directory, tok),
        "chat_errors": chat_errors(directory),
    }
    path = os.path.join(OUT, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")


TRAINING_TEXT = [
    "The quick brown fox jumps over the lazy dog. It's 12345 o'clock, we're late!",
    "def encode(text):\n    return [ord(c) for c in text]\n\n",
    "Café naïve résumé. 日本語のテキスト. Привет мир. 👍🏽 🎉",
    "    indented code\n\ttabbed\n",
    "numbers 3.14159 2718281828 1000000",
] * 20

CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim"
    " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# A Llama-3.2-like template: strftime_now, namespace, slicing, tojson, raise_exception, loop controls.
FEATURE_TEMPLATE = """{{- bos_token }}
{%- if not date_string is defined %}
    {%- set date_string = strftime_now("%d %b %Y") %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{%- set ns = namespace(count=0, last_user='') %}
{%- for m in messages %}
    {%- if m.role == 'user' %}
        {%- set ns.count = ns.count + 1 %}
        {%- set ns.last_user = m.content %}
    {%- endif %}
{%- endfor %}
<|start_header_id|>system<|end_header_id|>

Today Date: {{ date_string }}
Users: {{ ns.count }} last={{ ns.last_user | tojson }}
{{ system_message }}<|eot_id|>
{%- for message in messages[::-1] %}
    {%- if message.content.startswith('SKIP') %}{% continue %}{% endif %}
    {%- if message.role not in ['user', 'assistant'] %}
        {{- raise_exception('Unknown role: ' + message.role) }}
    {%- endif %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
    {%- if loop.index > 5 %}{% break %}{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
{{- {"a": [1, 2.5, none, true], "b": "x\\"y"} | tojson }}
{{ messages[0].content.split(' ')[-1].strip('?').upper() }}|{{ '  x  '.lstrip() }}|{{ 'hello world'.title() }}|{{ 'a-b-c'.split('-', 1)|length }}
{%- if 'capital' in messages[0].content %} mentions capital{% endif %}
{{ messages|length }} {{ (messages|map(attribute='role')|list)|join(',') }} {{ 7 // 2 }} {{ 2 ** 3 }} {{ messages[-1]['role']|capitalize }}
"""


def train_tiny_bytelevel():
    directory = os.path.join(OUT, "tiny-bytelevel")
    os.makedirs(directory, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(
        single="<|bos|> $A", pair="<|bos|> $A <|bos|> $B", special_tokens=[("<|bos|>", 0)])
    trainer = trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|bos|>", "<|eos|>", "<|im_start|>", "<|im_end|>"])
    tok.train_from_iterator(TRAINING_TEXT, trainer)
    # Added tokens with the matching flags HF supports (non-special ones are matched too).
    tok.add_tokens([
        AddedToken("<sep>", lstrip=True, rstrip=True, special=False, normalized=False),
        AddedToken("word", single_word=True, special=False, normalized=False),
        AddedToken("  ", normalized=True, special=False),
    ])
    tok.save(os.path.join(directory, "tokenizer.json"))
    config = {"bos_token": "<|bos|>", "eos_token": "<|im_end|>", "chat_template": CHATML_TEMPLATE}
    json.dump(config, open(os.path.join(directory, "tokenizer_config.json"), "w"), indent=2)
    return directory


def train_tiny_metaspace():
    directory = os.path.join(OUT, "tiny-metaspace")
    os.makedirs(directory, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Strip(left=False, right=True)])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True),
    ])
    tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first"),
                                     decoders.ByteFallback(), decoders.Fuse()])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B </s>", special_tokens=[("<s>", 1), ("</s>", 2)])
    byte_tokens = ["<0x%02X>" % b for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=420, special_tokens=["<unk>", "<s>", "</s>"] + byte_tokens)
    tok.train_from_iterator(TRAINING_TEXT[:4], trainer)
    tok.save(os.path.join(directory, "tokenizer.json"))
    # The byte tokens are ordinary vocabulary in SentencePiece conversions, not added tokens.
    saved = json.load(open(os.path.join(directory, "tokenizer.json")))
    saved["added_tokens"] = [t for t in saved["added_tokens"] if t["content"] not in byte_tokens]
    json.dump(saved, open(os.path.join(directory, "tokenizer.json"), "w"), ensure_ascii=False, indent=1)
    config = {"bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>",
              "chat_template": [{"name": "default", "template": FEATURE_TEMPLATE},
                                {"name": "tool_use", "template": "{{ 'tools' }}"}]}
    json.dump(config, open(os.path.join(directory, "tokenizer_config.json"), "w"), indent=2)
    return directory


# Whitespace control and syntax corner cases, rendered by transformers' jinja2 environment.
JINJA_CASES = [
    "{% for m in messages %}\n  {%+ if true %}\n[{{ m.role }}]\n  {% endif +%}\n{% endfor %}\n",
    "  {# comment #}\nA\n{% if true %}  B\n{% endif %}\n",
    "{% for m in messages %}{{ m.role }}\n{% endfor %}",
    "x  {% if true %}\ny{% endif %}",
    "{%- for m in messages -%}\n   {{ m.content }}   \n{%- endfor %}\n\n",
    "{% set a = 'p\n\nq' %}{{ a }}\n{{ a|length }}",
    "\n{% if true %}\n\n{% endif %}\n",
    "{{ messages|length }}\t{% if add_generation_prompt %}\t\n{% endif %}",
    "{% for m in messages[::-1] %}{{ loop.index }}:{{ m.role }} {% endfor %}",
    "{{ namespace(x=messages|length - 1).x }}",
    "{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %}{% endfor %}",
    "{{ 'a' }}\n\n{#- c -#}\n\n{{ 'b' }}",
    "{% raw %}{{ not rendered }}{% endraw %}",
    "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n",
    "{% for m in messages %}\n    {%- if loop.first %}\n        {{- bos_token }}\n    {%- endif %}\n    {{ m.role }}\n{% endfor %}",
    "{% macro turn(m) %}\n<{{ m.role }}>{{ m.content | trim }}\n{% endmacro %}\n{% for m in messages %}{{ turn(m) }}{% endfor %}",
]


def train_tiny_affixes():
    """BPE with continuing_subword_prefix/end_of_word_suffix and unk, split-only pre-tokenizers, no decoder."""
    from tokenizers import Regex
    directory = os.path.join(OUT, "tiny-affixes")
    os.makedirs(directory, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    tok.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.Lowercase(),
                                           normalizers.Replace(Regex(r"\d{6,}"), "#")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"),
        pre_tokenizers.Split(Regex(r"[.,!?;:]"), behavior="merged_with_previous"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.Split("-", behavior="merged_with_next"),
        pre_tokenizers.Split(Regex(r"[()\[\]{}]"), behavior="contiguous"),
    ])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "[CLS]", "[SEP]"],
                                  continuing_subword_prefix="##", end_of_word_suffix="</w>")
    tok.train_from_iterator(TRAINING_TEXT, trainer)
    tok.save(os.path.join(directory, "tokenizer.json"))
    json.dump({"bos_token": "[CLS]", "eos_token": "[SEP]"}, open(os.path.join(directory, "tokenizer_config.json"), "w"))
    return directory


def jinja_cases():
    messages = [{"role": "system", "content": " S "}, {"role": "user", "content": "Hi"}]
    cases = []
    for source in JINJA_CASES:
        rendered, _ = chat_template_utils.render_jinja_template(
            conversations=[messages], chat_template=source, add_generation_prompt=True, bos_token="<s>")
        cases.append({"source": source, "messages": messages, "text": rendered[0]})
    path = os.path.join(OUT, "jinja-cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"bos_token": "<s>", "add_generation_prompt": True, "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", path)


def main():
    fixed_clock()
    missing = [n for n in REAL if not os.path.exists(os.path.join(CACHE, n, "tokenizer.json"))]
    if missing:
        sys.exit("missing %s: run scripts/fetch_tokenizers.sh first" % missing)
    os.makedirs(OUT, exist_ok=True)
    for name in REAL:
        write_golden(name, os.path.join(CACHE, name))
    write_golden("tiny-bytelevel", train_tiny_bytelevel())
    write_golden("tiny-metaspace", train_tiny_metaspace())
    write_golden("tiny-affixes", train_tiny_affixes())
    jinja_cases()


if __name__ == "__main__":
    main()
