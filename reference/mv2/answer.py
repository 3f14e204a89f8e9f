"""Answers from retrieved passages, with citations (``Memory.ask``).

The default answer is *extractive*: it quotes the sentences of the retrieved passages that
share the most query words with the question, best first, and cites the frame each comes
from. It never invents text. An ``answerer(question, passages) -> str`` callable can replace
it (for example one that calls a language model); the passages it receives are the retrieved
hits, and the citations are still the frames those hits came from. Nothing here touches a
network.
"""

from __future__ import annotations

import re

_SENT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)
STOP = frozenset("a an and are as at be by for from has have how i in is it of on or that the this to was what when where which who why will with".split())


def _words(text: str) -> set[str]:
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in STOP}


def question_query(question: str) -> str | None:
    """A lexical query for a question: its content words joined by OR (None if it has none)."""
    words = []
    for m in _WORD.finditer(question.lower()):
        w = m.group(0)
        if w not in STOP and w not in words and any(c.isalnum() for c in w):
            words.append(w)
    return " OR ".join(words) if words else None


def answer(question: str, hits: list[dict], *, answerer=None, max_sentences: int = 3) -> dict:
    if not hits:
        return {"question": question, "answer": "", "citations": [], "hits": []}
    if answerer is not None:
        text = answerer(question, hits)
        cited = sorted({h["frame_id"] for h in hits})
        return {"question": question, "answer": text, "citations": cited, "hits": hits}
    qwords = _words(question)
    scored = []
    for order, h in enumerate(hits):
        for sentence in _SENT.split(h.get("snippet") or ""):
            s = sentence.strip()
            if not s or s.startswith(("title:", "uri:", "tags:", "labels:", "track:")):
                continue
            overlap = len(qwords & _words(s))
            if overlap:
                scored.append((-overlap, order, s, h["frame_id"]))
    scored.sort()
    chosen, seen = [], set()
    for _, _, s, fid in scored:
        if s in seen:
            continue
        seen.add(s)
        chosen.append((s, fid))
        if len(chosen) == max_sentences:
            break
    text = " ".join(f"{s} [{fid}]" for s, fid in chosen)
    return {"question": question, "answer": text, "citations": sorted({fid for _, fid in chosen}), "hits": hits}
