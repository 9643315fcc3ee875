"""Real tokenizer files for tests, nothing downloaded.

* Mistral: the files ``mistral-common`` ships (:func:`gie.tokenize.mistral_common_file`).
* Hugging Face: a byte-level BPE trained here with the ``tokenizers`` library on a small
  corpus, saved as ``tokenizer.json`` with a ``tokenizer_config.json`` carrying a
  Llama-3-style jinja2 chat template and its special tokens.
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

__all__ = ["CHAT_TEMPLATE", "write_hf_tokenizer"]

BOS = "<|begin_of_text|>"
EOS = "<|eot_id|>"
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% if tools %}<|start_header_id|>tools<|end_header_id|>\n\n"
    "{{ tools | tojson }}{{ eos_token }}{% endif %}"
    "{% for message in messages %}"
    "{% if message['role'] not in ['system', 'user', 'assistant', 'tool'] %}"
    "{{ raise_exception('unknown role ' + message['role']) }}{% endif %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}{{ eos_token }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
)
_CORPUS = [
    "The quick brown fox jumps over the lazy dog while simulated servers route tokens.",
    "Prefix caching keeps the key and value tensors of a prompt's leading blocks.",
    "You are a helpful assistant. Answer briefly and cite the document you used.",
    "def route(request): return min(servers, key=lambda s: s.queue_length)",
    "Kubernetes pods publish their cache events on a ZMQ socket, port 5557.",
]


def write_hf_tokenizer(folder: Path, *, vocab_size: int = 600) -> Path:
    """Train, save and return ``folder`` holding ``tokenizer.json`` and its config."""
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = [BOS, EOS, "<|start_header_id|>", "<|end_header_id|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 20, trainer=trainer)
    bos_id = tokenizer.token_to_id(BOS)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, bos_id)]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "bos_token": BOS,
        "eos_token": {"content": EOS, "special": True},
        "chat_template": CHAT_TEMPLATE,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
