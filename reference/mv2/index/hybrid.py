"""Hybrid search: reciprocal rank fusion of lexical and vector results (spec: "Search").

Each list is first reduced to frames (a frame's best-ranked passage stands for it). A frame
scores Σ 1 / (K + rank) over the lists it appears in, with K = 60 (the constant of Cormack,
Clarke and Büttcher's RRF); ties go to the lower frame id. The snippet is the lexical one
when there is one.
"""

from __future__ import annotations

RRF_K = 60


def _per_frame(hits: list[dict]) -> list[dict]:
    seen, out = set(), []
    for h in hits:
        if h["frame_id"] not in seen:
            seen.add(h["frame_id"])
            out.append(h)
    return out


def fuse(lex_hits: list[dict], vec_hits: list[dict], k: int) -> list[dict]:
    scores: dict[int, float] = {}
    best: dict[int, dict] = {}
    for hits in (_per_frame(lex_hits), _per_frame(vec_hits)):
        for rank, h in enumerate(hits, 1):
            scores[h["frame_id"]] = scores.get(h["frame_id"], 0.0) + 1.0 / (RRF_K + rank)
            best.setdefault(h["frame_id"], h)
    order = sorted(scores, key=lambda fid: (-scores[fid], fid))[:k]
    return [dict(best[fid], rank=i, score=scores[fid]) for i, fid in enumerate(order, 1)]
