#!/usr/bin/env python3
"""Golden data for infir2's tokenizer, chat template and SFT loss masks.

References (PyPI, run by developers, not by CI):
  - Hugging Face `tokenizers` (Rust): ids of every corpus string, and the
    decoding of id sequences (including ones that are not valid UTF-8);
  - `tokenizers`' NFC normalizer: the expected decode(encode(s));
  - `transformers`' apply_chat_template: rendered conversations and their
    ids, and slime's "qwen" multi-turn loss mask (recipe.md §4.3),
    transcribed below from slime/utils/mask_utils.py
    (MultiTurnLossMaskGenerator) on top of apply_chat_template.

Writes, next to this script:
  corpus.jsonl  {"kind", "text", "ids"[, "nfc"]}: >= 5,000 strings; "nfc"
                only where NFC(text) != text
  decode.jsonl  {"ids", "text", "text_skip_special"}
  chat.jsonl    {"messages", "text", "ids", "text_gen", "ids_gen",
                 "sft_ids", "sft_loss_mask"}

The corpus is generated from a fixed seed out of Python's own standard
library (docstrings for prose, sources for code), /usr/include headers (C),
and code point ranges (CJK, emoji, combining marks, whitespace, digits,
Unicode 15/16 additions, ...), so it is reproducible offline.

Regenerate:
  python3 -m pip install tokenizers transformers
  python3 test/golden/tokenizer/make_golden.py
"""

import glob
import inspect
import json
import os
import pydoc
import random
import sys

from tokenizers import Tokenizer, normalizers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
# test/data/qwen2.5-tokenizer: the shared Qwen2.5 tokenizer files.
TOKENIZER_DIR = os.path.normpath(
    os.path.join(HERE, "..", "..", "data", "qwen2.5-tokenizer"))
rng = random.Random(20261122)

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool_call>",
            "</tool_call>", "<|fim_prefix|>", "<|vision_pad|>", "<|file_sep|>"]
WHITESPACE = ["\t", "\n", "\x0b", "\x0c", "\r", " ", "\x85", "\xa0", "\u1680",
              "\u2000", "\u2003", "\u2009", "\u200a", "\u2028", "\u2029",
              "\u202f", "\u205f", "\u3000", "\r\n", "\x1c", "\x1f", "\u180e",
              "\u200b", "\ufeff"]


def stdlib_modules():
    names = sorted(m for m in sys.stdlib_module_names
                   if not m.startswith("_") and m not in ("antigravity", "this",
                                                          "idlelib", "turtledemo"))
    mods = []
    for n in names:
        try:
            mods.append(__import__(n))
        except Exception:
            pass
    return mods


def prose(n):
    paragraphs = []
    for mod in stdlib_modules():
        for _, obj in inspect.getmembers(mod):
            doc = inspect.getdoc(obj) if callable(obj) else None
            if doc and len(doc) > 40:
                paragraphs.extend(p.strip() for p in doc.split("\n\n")
                                  if 30 < len(p.strip()) < 600)
    paragraphs = sorted(set(paragraphs))
    return rng.sample(paragraphs, n)


def code(n_py, n_c):
    out = []
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))
    for _ in range(n_py):
        lines = open(rng.choice(files), encoding="utf-8").read().splitlines(True)
        start = rng.randrange(max(1, len(lines) - 20))
        out.append("".join(lines[start:start + rng.randint(1, 15)])[:1200])
    headers = sorted(glob.glob("/usr/include/*.h"))
    for _ in range(n_c):
        lines = open(rng.choice(headers), encoding="utf-8",
                     errors="replace").read().splitlines(True)
        start = rng.randrange(max(1, len(lines) - 20))
        out.append("".join(lines[start:start + rng.randint(1, 12)])[:1200])
    return [s for s in out if s]


def latex(n):
    atoms = [r"\frac{a}{b}", r"\sqrt{x^2+y^2}", r"\sum_{i=1}^{n} i^2",
             r"\int_0^\infty e^{-x}\,dx", r"\boxed{42}", r"\alpha", r"\beta_k",
             r"\mathbb{R}^n", r"\left(\frac{1}{2}\right)", r"x_{i,j}", r"\cdot",
             r"\leq", r"\neq", r"\pi r^2", r"\binom{n}{k}", r"\lim_{x\to 0}",
             r"\text{if } x > 0", r"\begin{pmatrix} 1 & 0 \\ 0 & 1 \end{pmatrix}",
             "∀ε>0 ∃δ>0", "x² + y² = z²", "½ + ¼ = ¾", "∑∏∫∮∇∂", "3.14159",
             "f(x) = 2x + 1", "a_{n+1} = a_n + d", r"\\", "$$", "$", r"\%"]
    out = []
    for _ in range(n):
        parts = [rng.choice(atoms) for _ in range(rng.randint(1, 8))]
        sep = rng.choice([" ", "", " = ", " + ", ", ", "\n"])
        s = sep.join(parts)
        if rng.random() < 0.5:
            s = f"Solve ${s}$ and put the answer in \\boxed{{}}."
        out.append(s)
    return out


def rand_chars(ranges, k):
    s = []
    for _ in range(k):
        a, b = rng.choice(ranges)
        s.append(chr(rng.randint(a, b)))
    return "".join(s)


def cjk(n):
    phrases = ["你好，世界！", "今天天气很好。", "机器学习是人工智能的一个分支。",
               "こんにちは、元気ですか？", "東京は日本の首都です。", "カタカナとひらがな",
               "안녕하세요, 반갑습니다.", "한국어 텍스트 처리", "中文、日本語、한국어 mixed with English",
               "第１２３章：全角数字と記号！？", "「引用」『二重引用』【括弧】"]
    ranges = [(0x4E00, 0x9FFF), (0x3040, 0x309F), (0x30A0, 0x30FF),
              (0xAC00, 0xD7A3), (0x3000, 0x303F), (0xFF01, 0xFF5E),
              (0x3400, 0x4DBF), (0x20000, 0x2A6DF)]
    out = []
    for _ in range(n):
        if rng.random() < 0.3:
            out.append(rng.choice(phrases) + rng.choice(["", " ", "\n"]) +
                       rng.choice(phrases))
        else:
            s = rand_chars(ranges, rng.randint(1, 60))
            if rng.random() < 0.4:
                s += " " + rng.choice(["ok", "123", "GPU", "test."]) + rand_chars(ranges, 5)
            out.append(s)
    return out


def emoji(n):
    base = ["😀", "😂", "🥲", "👍", "👩", "👨", "👧", "👦", "🧑", "❤️", "🔥", "✨",
            "🚀", "🎉", "🏳️", "🌈", "🇨🇳", "🇺🇸", "🇯🇵", "🤖", "🐍", "☕", "✅"]
    tones = ["\U0001F3FB", "\U0001F3FC", "\U0001F3FD", "\U0001F3FE", "\U0001F3FF"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(1, 6)):
            e = rng.choice(base)
            if rng.random() < 0.3:
                e += rng.choice(tones)
            if rng.random() < 0.4:  # a ZWJ sequence
                e += "\u200d" + rng.choice(base)
                if rng.random() < 0.5:
                    e += "\u200d" + rng.choice(base)
            if rng.random() < 0.2:
                e += "\ufe0f"
            parts.append(e)
        out.append(rng.choice(["", "Look ", "结果："]) +
                   rng.choice(["", " ", "\n"]).join(parts) + rng.choice(["", " done", "!"]))
    return out


def combining(n):
    letters = "aeiouAEIOUnNcCsSzZyY"
    marks = [chr(c) for c in range(0x0300, 0x0370)] + ["\u0323", "\u0328", "\u20d7"]
    out = []
    for _ in range(n):
        s = []
        for _ in range(rng.randint(1, 20)):
            s.append(rng.choice(letters))
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                s.append(rng.choice(marks))
        text = "".join(s)
        r = rng.random()
        if r < 0.2:  # Hangul jamo that compose under NFC
            text += "".join(chr(rng.randint(0x1100, 0x1112)) + chr(rng.randint(0x1161, 0x1175))
                            for _ in range(rng.randint(1, 4)))
        elif r < 0.4:
            text = "Tiếng Việt có dấu: " + text
        elif r < 0.5:
            text += " \u212b \u2126 \u00c5 \u0041\u030a"  # singletons and A-ring
        out.append(text)
    return out


def whitespace(n):
    out = []
    for _ in range(n):
        s = []
        for _ in range(rng.randint(1, 8)):
            r = rng.random()
            if r < 0.5:
                s.append("".join(rng.choice(WHITESPACE) for _ in range(rng.randint(1, 6))))
            else:
                s.append(rng.choice(["word", "x", "Hello", "中", "42", "--", "'s", "é"]))
        out.append("".join(s))
    return out


def digits(n):
    scripts = ["0123456789", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "０１２３４５６７８９",
               "零一二三四五六七八九", "①②③④⑤", "ⅠⅡⅢⅣⅤ", "¹²³"]
    out = []
    for _ in range(n):
        k = rng.choice(scripts)
        s = "".join(rng.choice(k) for _ in range(rng.randint(1, 40)))
        r = rng.random()
        if r < 0.3:
            s = f"{rng.randint(0, 10**12):,}"
        elif r < 0.5:
            s = f"{rng.random() * 10 ** rng.randint(-5, 9):.6g} and {s}"
        elif r < 0.6:
            s = f"v{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)}-rc{rng.randint(1, 5)}"
        out.append(s)
    return out


def specials(n):
    fillers = ["Hello", " world", "\n", "你好", "user", " ", "<|", "|>", "<|im_start",
               "im_end|>", "<|IM_START|>", "< |im_end| >", "<<|im_end|>>", "<tool_call",
               "</tool_call>x", "<|endoftext|><|endoftext|>"]
    out = []
    for _ in range(n):
        parts = [rng.choice(SPECIALS + fillers) for _ in range(rng.randint(1, 10))]
        out.append("".join(parts))
    return out


def long_words(n):
    out = []
    for _ in range(n):
        k = rng.choice([300, 1000, 3000, 10000, 20000])
        r = rng.random()
        if r < 0.3:
            out.append("a" * k)
        elif r < 0.6:
            out.append("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(k)))
        elif r < 0.8:
            out.append("".join(rng.choice("0123456789") for _ in range(k // 10)))
        else:
            out.append("-" * (k // 10) + "=" * (k // 20))
    return out


def random_unicode(n):
    out = []
    for _ in range(n):
        s = []
        for _ in range(rng.randint(1, 30)):
            r = rng.random()
            if r < 0.5:
                cp = rng.randint(0x20, 0xFFFF)
            elif r < 0.8:
                cp = rng.randint(0x10000, 0x3134F)
            elif r < 0.9:  # scripts added in Unicode 15.0 and 16.0
                cp = rng.choice([rng.randint(0x11F00, 0x11F59), rng.randint(0x1E4D0, 0x1E4F9),
                                 rng.randint(0x31350, 0x323AF), rng.randint(0x10D40, 0x10D8F),
                                 rng.randint(0x11380, 0x113E2), rng.randint(0x16D40, 0x16D79)])
            else:
                cp = rng.randint(0xE0000, 0x10FFFD)
            if 0xD800 <= cp <= 0xDFFF:
                cp = 0xFFFD
            s.append(chr(cp))
        out.append("".join(s))
    return out


def contractions(n):
    forms = ["'s", "'S", "'ſ", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M",
             "'ll", "'LL", "'lL", "'d", "'D", "'x", "''", "'", "’s", "'s'"]
    words = ["it", "don", "I", "we", "they", "John", "KÖNIG", "l'été", "O"]
    return ["".join(rng.choice(words) + rng.choice(forms) + rng.choice(["", " ", "s", "\n"])
                    for _ in range(rng.randint(1, 6))) for _ in range(n)]


def scripts(n):
    samples = ["مرحبا بالعالم، هذا نص عربي.", "שלום עולם, זה טקסט בעברית.",
               "नमस्ते दुनिया, यह हिंदी पाठ है।", "สวัสดีชาวโลก นี่คือข้อความภาษาไทย",
               "Привет, мир! Это русский текст.", "Γειά σου Κόσμε, ελληνικό κείμενο.",
               "Բարեւ աշխարհ", "გამარჯობა მსოფლიო", "ሰላም ዓለም", "Xin chào thế giới",
               "Ｆｕｌｌｗｉｄｔｈ　ｔｅｘｔ", "ŁÓDŹ ŻÓŁĆ ĄĘ", "Größe Straße"]
    out = []
    for _ in range(n):
        parts = rng.sample(samples, rng.randint(1, 3))
        out.append(rng.choice([" ", "\n", " | ", ""]).join(parts))
    return out


def normalization(n):
    """Combining marks around the ones Unicode assigned after tokenizers'
    normalization data (which must stay where they are)."""
    newer = [0x7FD, 0x898, 0x89F, 0x8CA, 0x8D3, 0x9FE, 0xC3C, 0xD3B, 0xEBA, 0x1715,
             0x1ABF, 0x1ACE, 0x1DF6, 0xA82C, 0x10D24, 0x10EAB, 0x10F46, 0x11070,
             0x1133B, 0x1145E, 0x1193D, 0x11A34, 0x16FF0, 0x1E08F, 0x1E130, 0x1E4EC]
    older = [0x300, 0x301, 0x316, 0x334, 0x327, 0x35C, 0x64B, 0x650, 0x93C, 0x94D]
    bases = ["a", "k", "ب", "क", "e", "ท", "A"]
    out = []
    for _ in range(n):
        s = []
        for _ in range(rng.randint(1, 6)):
            s.append(rng.choice(bases))
            for _ in range(rng.randint(1, 4)):
                s.append(chr(rng.choice(newer if rng.random() < 0.4 else older)))
        out.append("".join(s))
    return out


def main():
    tok = Tokenizer.from_file(os.path.join(TOKENIZER_DIR, "tokenizer.json"))
    nfc = normalizers.NFC()
    corpus = []
    for kind, items in [("prose", prose(800)), ("code", code(700, 200)),
                        ("latex", latex(400)), ("cjk", cjk(500)),
                        ("emoji", emoji(300)), ("combining", combining(300)),
                        ("whitespace", whitespace(400)), ("digits", digits(300)),
                        ("specials", specials(300)), ("long", long_words(50)),
                        ("unicode", random_unicode(500)),
                        ("contractions", contractions(200)),
                        ("scripts", scripts(300)),
                        ("normalization", normalization(150))]:
        for text in items:
            corpus.append((kind, text))
    with open(os.path.join(HERE, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for kind, text in corpus:
            ids = tok.encode(text, add_special_tokens=False).ids
            rec = {"kind": kind, "text": text, "ids": ids}
            normalized = nfc.normalize_str(text)
            if normalized != text:
                rec["nfc"] = normalized
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"corpus.jsonl: {len(corpus)} strings")

    vocab = tok.get_vocab_size(with_added_tokens=True)
    byte_tokens = [tok.token_to_id(chr(c)) for c in list(range(0x100, 0x143)) if tok.token_to_id(chr(c)) is not None]
    with open(os.path.join(HERE, "decode.jsonl"), "w", encoding="utf-8") as f:
        for i in range(600):
            r = rng.random()
            if r < 0.4:  # bytes that need not form valid UTF-8
                ids = [rng.choice(byte_tokens + list(range(0, 256))) for _ in range(rng.randint(1, 12))]
            elif r < 0.7:
                ids = [rng.randrange(vocab) for _ in range(rng.randint(1, 30))]
            else:  # a valid encoding cut at a random point, plus specials
                text = rng.choice(corpus)[1][:200]
                ids = tok.encode(text, add_special_tokens=False).ids
                ids = ids[rng.randrange(len(ids) + 1):] if ids else ids
                ids = ids + [rng.randrange(151643, vocab)]
            f.write(json.dumps({"ids": ids,
                                "text": tok.decode(ids, skip_special_tokens=False),
                                "text_skip_special": tok.decode(ids, skip_special_tokens=True)},
                               ensure_ascii=False) + "\n")
    print("decode.jsonl: 600 id sequences")

    hf = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    gen = MultiTurnLossMaskGenerator(hf)
    contents = [t for k, t in corpus if k in ("prose", "cjk", "latex", "emoji", "specials", "code")]
    with open(os.path.join(HERE, "chat.jsonl"), "w", encoding="utf-8") as f:
        for i in range(200):
            messages = []
            if rng.random() < 0.4:
                messages.append({"role": "system", "content": rng.choice(
                    ["You are a helpful assistant.", "Please reason step by step, and put your final answer within \\boxed{}.",
                     "", rng.choice(contents)[:300]])})
            for t in range(rng.randint(1, 4)):
                messages.append({"role": "user", "content": rng.choice(contents)[:200]})
                a = {"role": "assistant", "content": rng.choice(
                    ["<think>\nLet me think.\n</think>\n\nThe answer is \\boxed{4}.", "",
                     rng.choice(contents)[:200]])}
                if rng.random() < 0.2:
                    a["step_loss_mask"] = 0
                messages.append(a)
                if rng.random() < 0.1:
                    messages.append({"role": "system", "content": "A later system message."})
            if rng.random() < 0.3:
                messages.pop()  # end on a user turn
            kw = dict(return_dict=False)
            sft_ids, sft_mask = gen.gen_multi_turn_loss_mask_qwen(messages)
            f.write(json.dumps({
                "messages": messages,
                "text": hf.apply_chat_template(messages, tokenize=False),
                "ids": hf.apply_chat_template(messages, tokenize=True, **kw),
                "text_gen": hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
                "ids_gen": hf.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, **kw),
                "sft_ids": sft_ids, "sft_loss_mask": sft_mask}, ensure_ascii=False) + "\n")
    print(f"chat.jsonl: 200 conversations (S={gen.system_message_length}, G={gen.gen_token_length})")


class MultiTurnLossMaskGenerator:
    """slime/utils/mask_utils.py's "qwen" loss mask, on transformers'
    apply_chat_template (transcribed; transformers 5 needs return_dict=False
    where slime's transformers returned a list)."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.system_message_length, self.gen_token_length = self.get_system_message_length()

    @staticmethod
    def find_all_sublist_indices(main_list, sublist):
        n = len(sublist)
        return [i for i in range(len(main_list) - n + 1) if main_list[i:i + n] == sublist]

    def get_system_message_length(self):
        test_string = "FOR TESTING ONLY"
        test_messages = [{"role": "user", "content": test_string},
                         {"role": "user", "content": test_string}]
        raw_token_ids = self.tokenizer(test_string, add_special_tokens=False)["input_ids"]
        chat_ids = self.tokenizer.apply_chat_template(test_messages, tokenize=True, return_dict=False)
        idx_1, idx_2 = self.find_all_sublist_indices(chat_ids, raw_token_ids)
        end_interval = len(chat_ids) - len(raw_token_ids) - idx_2
        gen_token_length = len(self.tokenizer.apply_chat_template(
            test_messages, add_special_tokens=False, tokenize=True, add_generation_prompt=True,
            return_dict=False)) - len(chat_ids)
        system_message_length = idx_1 - ((idx_2 - idx_1) - end_interval - len(raw_token_ids))
        return system_message_length, gen_token_length

    def gen_multi_turn_loss_mask_qwen(self, messages):
        all_loss_masks, all_token_ids = [], []
        for i, message in enumerate(messages):
            message_ids = self.tokenizer.apply_chat_template([message], tokenize=True, return_dict=False)
            if message["role"] != "system" and i > 0:
                message_ids = message_ids[self.system_message_length:]
            if message["role"] == "assistant":
                loss_mask = [0] * self.gen_token_length + [1] * (len(message_ids) - self.gen_token_length)
            else:
                loss_mask = [0] * len(message_ids)
            if message.get("step_loss_mask", 1) != 1:
                loss_mask = [0] * len(message_ids)
            all_loss_masks.extend(loss_mask)
            all_token_ids.extend(message_ids)
        return all_token_ids, all_loss_masks


if __name__ == "__main__":
    main()
