"""CPU to tokenize and score one long prompt precisely: ``python -m bench.tokenize_cost``.

``precise-prefix-cache-scorer`` over 8 endpoints whose precise index holds the whole
prompt (the longest lookup), with each tokenizer: the characters-per-token stand-in,
and the Tekken and SentencePiece tokenizers mistral-common ships (``--hf PATH`` adds a
Hugging Face ``tokenizer.json``). Prompts: a 200 KB completion, and a chat of the same
size (a long system message and a question). Each case is timed in CPU seconds of this
process (``time.process_time``: every thread, the tokenizer libraries' included), the
median and p90 over ``--repeat`` runs after warm-up; tokenizing alone is timed too.
"""
