#!/usr/bin/env python3
"""Measure a text: words, sentences, paragraphs, reading time, readability, top words.

Usage:
    python3 scripts/text_stats.py essay.txt [more.txt ...]   read files (combined)
    python3 scripts/text_stats.py < essay.txt                read standard input
    options: --top N   how many frequent words to list (default 10, 0 for none)
             --json    machine-readable output

Words are runs of letters/digits (apostrophes and hyphens inside a word are kept, so
"don't" and "well-known" count once). Reading time assumes 238 words per minute (average
silent reading of English non-fiction, Brysbaert 2019), speaking time 150 words per minute.
Readability is the Flesch reading ease with a heuristic syllable count: an estimate for
English text only. Standard library only.
"""
import json
import re
import sys
from collections import Counter

READING_WPM = 238
SPEAKING_WPM = 150

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
# A sentence ends at . ! ? (possibly repeated, possibly followed by quotes or brackets)
# followed by whitespace or the end of the text.
SENTENCE_END = re.compile(r"[.!?]+[\"'’”)\]]*(?=\s|$)")

STOPWORDS = set("""
a about above after again against all am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves
also may might must shall s t don't it's i'm
""".split())


def syllables(word):
    """Vowel groups, minus a silent final e, at least one: good to ~85% for English."""
    word = word.lower()
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups)
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    return max(count, 1)


def minutes(words, per_minute):
    return round(words / per_minute, 1)


def analyse(text, top=10):
    words = WORD.findall(text)
    word_count = len(words)
    # A sentence is a stretch between terminators that holds a word: "..." alone is none,
    # and words after the last full stop (an unfinished line) still make one.
    sentence_count = sum(1 for part in SENTENCE_END.split(text) if WORD.search(part))
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    lowered = [w.lower().replace("’", "'") for w in words]
    frequent = Counter(w for w in lowered if w not in STOPWORDS and not w.isdigit())
    result = {
        "characters": len(text),
        "characters_no_spaces": len(re.sub(r"\s", "", text)),
        "words": word_count,
        "unique_words": len(set(lowered)),
        "sentences": sentence_count,
        "paragraphs": len(paragraphs),
        "avg_words_per_sentence": round(word_count / sentence_count, 1) if sentence_count else 0,
        "avg_word_length": round(sum(len(w) for w in words) / word_count, 1) if word_count else 0,
        "reading_time_min": minutes(word_count, READING_WPM),
        "speaking_time_min": minutes(word_count, SPEAKING_WPM),
        "flesch_reading_ease": None,
        "top_words": [[w, n] for w, n in frequent.most_common(top)] if top > 0 else [],
    }
    if word_count and sentence_count:
        syllable_count = sum(syllables(w) for w in words)
        ease = 206.835 - 1.015 * (word_count / sentence_count) - 84.6 * (syllable_count / word_count)
        result["flesch_reading_ease"] = round(ease, 1)
    return result


def ease_label(score):
    if score is None:
        return "n/a"
    for limit, label in ((90, "very easy"), (70, "easy"), (60, "plain"),
                         (50, "fairly difficult"), (30, "difficult")):
        if score >= limit:
            return label
    return "very difficult"


def render(r):
    lines = [
        f"words: {r['words']} ({r['unique_words']} unique)",
        f"characters: {r['characters']} ({r['characters_no_spaces']} without whitespace)",
        f"sentences: {r['sentences']}, paragraphs: {r['paragraphs']}",
        f"average: {r['avg_words_per_sentence']} words per sentence, "
        f"{r['avg_word_length']} letters per word",
        f"reading time: {r['reading_time_min']} min at {READING_WPM} wpm; "
        f"speaking time: {r['speaking_time_min']} min at {SPEAKING_WPM} wpm",
        f"Flesch reading ease: {r['flesch_reading_ease']} ({ease_label(r['flesch_reading_ease'])})",
    ]
    if r["top_words"]:
        lines.append("top words: " + ", ".join(f"{w} ({n})" for w, n in r["top_words"]))
    return "\n".join(lines)


def main(argv):
    args = argv[1:]
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return 0
    top, as_json, paths = 10, False, []
    i = 0
    while i < len(args):
        if args[i] == "--top" and i + 1 < len(args):
            try:
                top = max(0, int(args[i + 1]))
            except ValueError:
                print(f"error: --top needs a number, not {args[i + 1]!r}", file=sys.stderr)
                return 2
            i += 1
        elif args[i] == "--json":
            as_json = True
        elif args[i].startswith("--"):
            print(f"error: unknown option {args[i]}", file=sys.stderr)
            return 2
        else:
            paths.append(args[i])
        i += 1
    try:
        if paths:
            parts = []
            for path in paths:
                with open(path, encoding="utf-8-sig") as f:
                    parts.append(f.read())
            text = "\n\n".join(parts)
        else:
            text = sys.stdin.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: cannot read input: {e}", file=sys.stderr)
        return 2
    result = analyse(text, top)
    print(json.dumps(result, indent=2, ensure_ascii=False) if as_json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
