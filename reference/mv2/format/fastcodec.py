"""Fast bincode codecs generated from the Construct schema (spec: conventions, "Bincode encoding").

The Construct definitions in this package are the single description of every bincode
structure. Interpreting them is slow (about 60 µs per frame), so this module *compiles* a
definition into plain Python source — ``struct.unpack_from`` calls, explicit checks, dicts
and lists — and executes it once. Nothing about the format is written here: the generator
only knows how each kind of Construct node encodes.

Error handling stays single-sourced. A generated decoder performs every check the
interpreter performs (lengths against the remaining bytes, UTF-8, bool and Option tags, enum
ranges, map key order, exact length) but reports failure only as "not valid"; the caller
then runs the Construct interpreter on the same bytes, which raises the coded error with its
offset. Tests compare the two on every gold file and on random and damaged inputs.
"""

from __future__ import annotations

import hashlib
import os
import struct

from construct import Array, Bytes, Const, Construct, FormatField, Renamed, Struct

from . import bincode as B
from .gcpause import paused_gc

class Invalid(Exception):
    """The generated decoder found the bytes invalid; the interpreter will say why."""


def _unwrap(c: Construct) -> Construct:
    while isinstance(c, Renamed):
        c = c.subcon
    return c


class _Gen:
    def __init__(self):
        self.lines: list[str] = []
        self.consts: dict[str, object] = {"Invalid": Invalid, "_struct": struct}
        self.dec_done: dict[int, str] = {}
        self.enc_done: dict[int, str] = {}
        self._n = 0

    def _next(self) -> int:
        # Names are numbered per generator, in walk order, so the same schema always gives the
        # same source, and the source's fingerprint identifies the schema.
        self._n += 1
        return self._n

    def const(self, value, prefix="K") -> str:
        name = f"{prefix}{self._next()}"
        self.consts[name] = value
        return name

    def fingerprint(self) -> str:
        """SHA-256 of the generated source and the constants it names: equal for equal schemas."""
        h = hashlib.sha256("\n".join(self.lines).encode())
        for name, value in self.consts.items():
            if name[0] in "SEI" and name[1:].isdigit():
                h.update(f"\n{name}={value.format if isinstance(value, struct.Struct) else value!r}".encode())
        return h.hexdigest()

    # -- decoding ------------------------------------------------------------------------------
    def dec_expr(self, c: Construct, ind: str, out: str) -> list[str]:
        """Lines that decode ``c`` at ``pos`` into variable ``out`` (advancing ``pos``)."""
        c = _unwrap(c)
        if isinstance(c, FormatField):
            st = self.const(struct.Struct(c.fmtstr), "S")
            return [f"{ind}{out} = {st}.unpack_from(buf, pos)[0]; pos += {struct.calcsize(c.fmtstr)}"]
        if isinstance(c, Const):
            inner = self.dec_expr(c.subcon, ind, out)
            return inner + [f"{ind}if {out} != {c.value!r}: raise Invalid"]
        if isinstance(c, Bytes) and isinstance(c.length, int):
            n = c.length
            return [f"{ind}if pos + {n} > end: raise Invalid",
                    f"{ind}{out} = bytes(buf[pos:pos + {n}]); pos += {n}"]
        if isinstance(c, B.Bool):
            return [f"{ind}{out} = buf[pos]; pos += 1",
                    f"{ind}if {out} > 1: raise Invalid",
                    f"{ind}{out} = {out} == 1"]
        if isinstance(c, B.String):
            return [f"{ind}_n = U64.unpack_from(buf, pos)[0]; pos += 8",
                    f"{ind}if _n > end - pos: raise Invalid",
                    f"{ind}{out} = str(buf[pos:pos + _n], 'utf-8'); pos += _n"]
        if isinstance(c, B.ByteVec):
            return [f"{ind}_n = U64.unpack_from(buf, pos)[0]; pos += 8",
                    f"{ind}if _n > end - pos: raise Invalid",
                    f"{ind}{out} = bytes(buf[pos:pos + _n]); pos += _n"]
        if isinstance(c, B.Option):
            lines = [f"{ind}_t = buf[pos]; pos += 1",
                     f"{ind}if _t == 0:", f"{ind}    {out} = None",
                     f"{ind}elif _t == 1:"]
            lines += self.dec_expr(c.subcon, ind + "    ", out)
            lines += [f"{ind}else: raise Invalid"]
            return lines
        if isinstance(c, B.Enum):
            names = self.const(tuple(c.variants), "E")
            return [f"{ind}_e = U32.unpack_from(buf, pos)[0]; pos += 4",
                    f"{ind}if _e >= {len(c.variants)}: raise Invalid",
                    f"{ind}{out} = {names}[_e]"]
        if isinstance(c, B.Vec):
            sub = _unwrap(c.subcon)
            m = max(c.min_item, 1)
            head = [f"{ind}_n = U64.unpack_from(buf, pos)[0]; pos += 8",
                    f"{ind}if _n > (end - pos) // {m}: raise Invalid"]
            if isinstance(sub, FormatField):
                size = struct.calcsize(sub.fmtstr)
                fmt = sub.fmtstr[0]
                code = sub.fmtstr[1:]
                return head + [f"{ind}{out} = list(_struct.unpack_from('{fmt}%d{code}' % _n, buf, pos)); pos += {size} * _n"]
            fn = self.dec_func(sub)
            return head + [f"{ind}{out} = []",
                           f"{ind}for _ in range(_n):",
                           f"{ind}    _x, pos = {fn}(buf, pos, end)",
                           f"{ind}    {out}.append(_x)"]
        if isinstance(c, B.Map):
            kf = self.dec_func(c.key)
            vf = self.dec_func(c.value)
            return [f"{ind}_n = U64.unpack_from(buf, pos)[0]; pos += 8",
                    f"{ind}if _n > (end - pos) // 2: raise Invalid",
                    f"{ind}{out} = {{}}",
                    f"{ind}_prev = None",
                    f"{ind}for _ in range(_n):",
                    f"{ind}    _k, pos = {kf}(buf, pos, end)",
                    f"{ind}    _sk = _k.encode('utf-8')",
                    f"{ind}    if _prev is not None and not _sk > _prev: raise Invalid",
                    f"{ind}    _prev = _sk",
                    f"{ind}    {out}[_k], pos = {vf}(buf, pos, end)"]
        if isinstance(c, B.Tagged):
            names = self.const(tuple(n for n, _ in c.variants), "E")
            lines = [f"{ind}_e = U32.unpack_from(buf, pos)[0]; pos += 4",
                     f"{ind}if _e >= {len(c.variants)}: raise Invalid"]
            for i, (_, sub) in enumerate(c.variants):
                fn = self.dec_func(sub)
                lines += [f"{ind}{'if' if i == 0 else 'elif'} _e == {i}:",
                          f"{ind}    _v, pos = {fn}(buf, pos, end)"]
            lines += [f"{ind}{out} = {{'variant': {names}[_e], 'value': _v}}"]
            return lines
        if isinstance(c, Struct):
            fn = self.dec_func(c)
            return [f"{ind}{out}, pos = {fn}(buf, pos, end)"]
        raise NotImplementedError(f"no fast decoder for {type(c).__name__}")

    def dec_func(self, c: Construct) -> str:
        c = _unwrap(c)
        if id(c) in self.dec_done:
            return self.dec_done[id(c)]
        name = f"dec{self._next()}"
        self.dec_done[id(c)] = name
        body: list[str] = []
        if isinstance(c, Struct):
            fields = []
            for i, sc in enumerate(c.subcons):
                var = f"f{i}"
                body += self.dec_expr(sc, "    ", var)
                fields.append(f"{sc.name!r}: {var}")
            body.append(f"    return {{{', '.join(fields)}}}, pos")
        else:
            body += self.dec_expr(c, "    ", "v")
            body.append("    return v, pos")
        self.lines += [f"def {name}(buf, pos, end):"] + body + [""]
        return name

    # -- encoding ------------------------------------------------------------------------------
    def enc_stmt(self, c: Construct, ind: str, val: str) -> list[str]:
        """Lines that append the encoding of ``val`` to ``out``."""
        c = _unwrap(c)
        if isinstance(c, FormatField):
            st = self.const(struct.Struct(c.fmtstr), "S")
            return [f"{ind}out.append({st}.pack({val}))"]
        if isinstance(c, Const):
            return self.enc_stmt(c.subcon, ind, repr(c.value))
        if isinstance(c, Bytes) and isinstance(c.length, int):
            return [f"{ind}_b = bytes({val})",
                    f"{ind}if len(_b) != {c.length}: raise ValueError('expected {c.length} bytes')",
                    f"{ind}out.append(_b)"]
        if isinstance(c, B.Bool):
            return [f"{ind}if {val} is not True and {val} is not False: raise ValueError('bool expected')",
                    f"{ind}out.append(b'\\x01' if {val} else b'\\x00')"]
        if isinstance(c, B.String):
            return [f"{ind}_s = {val}.encode('utf-8')",
                    f"{ind}out.append(U64.pack(len(_s))); out.append(_s)"]
        if isinstance(c, B.ByteVec):
            return [f"{ind}_s = bytes({val})",
                    f"{ind}out.append(U64.pack(len(_s))); out.append(_s)"]
        if isinstance(c, B.Option):
            return [f"{ind}if {val} is None:", f"{ind}    out.append(b'\\x00')", f"{ind}else:",
                    f"{ind}    out.append(b'\\x01')"] + self.enc_stmt(c.subcon, ind + "    ", val)
        if isinstance(c, B.Enum):
            idx = self.const(dict(c.index), "I")
            return [f"{ind}_i = {val} if isinstance({val}, int) else {idx}[{val}]",
                    f"{ind}if not 0 <= _i < {len(c.variants)}: raise ValueError('enum')",
                    f"{ind}out.append(U32.pack(_i))"]
        if isinstance(c, B.Vec):
            sub = _unwrap(c.subcon)
            if isinstance(sub, FormatField):
                fmt, code = sub.fmtstr[0], sub.fmtstr[1:]
                return [f"{ind}_l = list({val})",
                        f"{ind}out.append(U64.pack(len(_l))); out.append(_struct.pack('{fmt}%d{code}' % len(_l), *_l))"]
            fn = self.enc_func(sub)
            return [f"{ind}_l = list({val})", f"{ind}out.append(U64.pack(len(_l)))",
                    f"{ind}for _x in _l: {fn}(_x, out)"]
        if isinstance(c, B.Map):
            kf, vf = self.enc_func(c.key), self.enc_func(c.value)
            return [f"{ind}_items = sorted(dict({val}).items(), key=lambda kv: kv[0].encode('utf-8'))",
                    f"{ind}out.append(U64.pack(len(_items)))",
                    f"{ind}for _k, _v in _items:", f"{ind}    {kf}(_k, out); {vf}(_v, out)"]
        if isinstance(c, B.Tagged):
            idx = self.const(dict(c.index), "I")
            lines = [f"{ind}_i = {idx}[{val}['variant']]", f"{ind}out.append(U32.pack(_i))"]
            for i, (_, sub) in enumerate(c.variants):
                fn = self.enc_func(sub)
                lines += [f"{ind}{'if' if i == 0 else 'elif'} _i == {i}: {fn}({val}['value'], out)"]
            return lines
        if isinstance(c, Struct):
            return [f"{ind}{self.enc_func(c)}({val}, out)"]
        raise NotImplementedError(f"no fast encoder for {type(c).__name__}")

    def enc_func(self, c: Construct) -> str:
        c = _unwrap(c)
        if id(c) in self.enc_done:
            return self.enc_done[id(c)]
        name = f"enc{self._next()}"
        self.enc_done[id(c)] = name
        body: list[str] = []
        if isinstance(c, Struct):
            for i, sc in enumerate(c.subcons):
                body += self.enc_stmt(sc, "    ", f"obj[{sc.name!r}]")
        else:
            body += self.enc_stmt(c, "    ", "obj")
        self.lines += [f"def {name}(obj, out):"] + (body or ["    pass"]) + [""]
        return name


def _load_accelerator():
    """The compiled decoders (``_codec_c``, built from ``fastcodec_cy``'s output), or None.

    ``MV2_PURE_CODEC=1`` turns them off, for comparing the two paths and for debugging.
    """
    if os.environ.get("MV2_PURE_CODEC", "") not in ("", "0"):
        return None
    try:
        from . import _codec_c
    except ImportError:
        return None
    return _codec_c


_ACCEL = _load_accelerator()
_REJECTED = (Invalid, struct.error, IndexError, UnicodeDecodeError, ValueError, OverflowError) + (
    (_ACCEL.Bad,) if _ACCEL is not None else ())


class FastCodec:
    """Generated decode/encode functions for one Construct definition.

    Decoding uses the compiled accelerator when it was built from this very schema (same
    fingerprint), and the generated Python otherwise; ``pure=True`` insists on the latter. The
    Python source is compiled only when it is first needed.
    """

    def __init__(self, con: Construct, *, pure: bool = False):
        self.con = con
        g = _Gen()
        g.consts.update(U64=struct.Struct("<Q"), U32=struct.Struct("<I"))
        self._dec_name = g.dec_func(con)
        self._enc_name = g.enc_func(con)
        self._consts = g.consts
        self.source = "\n".join(g.lines)
        self.fingerprint = g.fingerprint()
        self._ns: dict | None = None
        compiled = None if pure or _ACCEL is None else _ACCEL.DECODERS.get(self.fingerprint)
        self.accelerated = compiled is not None
        self._cdec = compiled
        self._cspans = _ACCEL.SPANS.get(self.fingerprint) if self.accelerated else None
        self._clazy = getattr(_ACCEL, "LAZY", {}).get(self.fingerprint) if self.accelerated else None
        self._crange = getattr(_ACCEL, "RANGES", {}).get(self.fingerprint) if self.accelerated else None

    def _pure(self) -> dict:
        if self._ns is None:
            ns = dict(self._consts)
            exec(compile(self.source, f"<fastcodec {type(_unwrap(self.con)).__name__}>", "exec"), ns)  # noqa: S102
            self._ns = ns
        return self._ns

    def decode(self, data) -> object:
        """Plain value of ``data`` (which must be consumed exactly); raises Invalid otherwise."""
        buf = memoryview(data)
        try:
            with paused_gc():
                if self._cdec is not None:
                    value, pos = self._cdec(buf)
                else:
                    value, pos = self._pure()[self._dec_name](buf, 0, len(buf))
        except _REJECTED:
            raise Invalid from None
        if pos != len(buf):
            raise Invalid
        return value

    def frame_spans(self, data) -> list[int] | None:
        """Where each frame of a TOC starts in ``data``, then where the last ends; None when the
        accelerator has no span function for this definition or the bytes do not parse."""
        if self._cspans is None:
            return None
        try:
            return self._cspans(memoryview(data))
        except _REJECTED:
            return None

    @property
    def lazy_available(self) -> bool:
        return self._clazy is not None

    def decode_lazy(self, data):
        """``(value, spans, columns)`` of ``data`` with its frames checked but not built (see
        ``fastcodec_cy.CyGen.add_lazy``), or None when the accelerator has no such function
        for this definition; raises Invalid where :meth:`decode` would."""
        if self._clazy is None:
            return None
        buf = memoryview(data)
        try:
            value, spans, cols, pos = self._clazy(buf)
        except _REJECTED:
            raise Invalid from None
        if pos != len(buf):
            raise Invalid
        return value, spans, cols

    def decode_range(self, buf, spans, lo: int, hi: int) -> list:
        """The values of items ``lo..hi`` of a list laid out as ``spans`` says (item ``i`` is
        ``buf[spans[i]:spans[i + 1]]``, which it must consume exactly); raises Invalid otherwise.
        The spans are those :meth:`decode_lazy` found, so the bytes have been checked."""
        try:
            if self._crange is not None:
                return self._crange(buf, spans, lo, hi)
            dec = self._pure()[self._dec_name]
            out = []
            for i in range(lo, hi):
                value, pos = dec(buf, int(spans[i]), int(spans[i + 1]))
                if pos != spans[i + 1]:
                    raise Invalid
                out.append(value)
            return out
        except _REJECTED:
            raise Invalid from None

    def encode(self, value) -> bytes:
        out: list[bytes] = []
        self._pure()[self._enc_name](value, out)
        return b"".join(out)
