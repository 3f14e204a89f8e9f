"""The query language of lexical search (spec: "Search", query syntax).

The grammar is memvid's, so that the same query string means the same thing to both:

* words and ``"quoted phrases"``; adjacent terms are joined by AND;
* ``AND``, ``OR``, ``NOT`` (upper or lower case) and parentheses; AND binds tighter than OR;
* field terms ``uri:``, ``scope:`` (URI prefix), ``track:``, ``tag:``, ``label:`` and
  ``date:[START TO END]`` (RFC 3339, ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``; ``*`` open);
* in a word, a ``*`` or a ``?`` that is not trailing is a wildcard; a trailing ``?`` is
  punctuation; leading and trailing punctuation is dropped.

Besides building the search engine's query, a parsed query is *evaluated* against each
candidate frame's text (ASCII-lower-cased substring tests), which is how memvid enforces AND
and field terms after the engine's looser match.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field

from ..errors import UsageError

KNOWN_FIELDS = ("uri", "scope", "track", "tag", "label", "date")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _ascii_lower(s: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in s)


# --- expression tree ---------------------------------------------------------------------


@dataclass
class Word:
    text: str  # cleaned, ASCII-lower-cased; "" for a punctuation-only word


@dataclass
class Phrase:
    text: str


@dataclass
class Wildcard:
    """A word with ``*`` (any run of letters and digits) or ``?`` (one of them).

    It matches a frame whose text has a word (a run of letters and digits, as the simple
    tokenizer splits) that the pattern matches whole; the index is asked for its terms
    that the pattern matches whole (``term_pattern``, in the Rust regex syntax Tantivy
    reads, where a pattern is implicitly anchored)."""

    raw: str
    regex: re.Pattern

    def term_pattern(self) -> str:
        out = []
        for c in self.raw:
            if c == "*":
                out.append(".*")
            elif c == "?":
                out.append(".")
            elif c.isalnum():
                out.append(c)
            elif c in "\\]^[":
                out.append("\\" + c)
            else:
                out.append("[" + c + "]")  # literal in a class, whatever the character
        return "".join(out)

    def seed(self) -> str | None:
        s = self.raw.split("*", 1)[0].split("?", 1)[0]
        return s or None


@dataclass
class Field:
    name: str  # uri | scope | track | tag | label
    value: str


@dataclass
class DateRange:
    start: int | None
    end: int | None

    def contains(self, ts: int) -> bool:
        return (self.start is None or ts >= self.start) and (self.end is None or ts <= self.end)

    def intersect(self, other: "DateRange") -> "DateRange":
        def pick(a, b, f):
            return f(a, b) if a is not None and b is not None else (a if a is not None else b)
        return DateRange(pick(self.start, other.start, max), pick(self.end, other.end, min))

    def is_empty(self) -> bool:
        return self.start is not None and self.end is not None and self.start > self.end


@dataclass
class Node:
    op: str  # "and" | "or" | "not" | "term"
    children: list = field(default_factory=list)
    term: object = None


_WORD_CHAR = r"[^\W_]"  # a letter or digit: what the simple tokenizer keeps


def _wildcard(raw: str) -> Wildcard:
    body = "".join(_WORD_CHAR + "*" if c == "*" else _WORD_CHAR if c == "?" else re.escape(c) for c in raw)
    return Wildcard(raw, re.compile(f"(?<!{_WORD_CHAR}){body}(?!{_WORD_CHAR})"))


def _is_alnum(c: str) -> bool:
    # Rust's char::is_alphanumeric (Unicode Alphabetic or Numeric); close to str.isalnum.
    return c.isalnum()


def word_term(word: str):
    lower = _ascii_lower(word).rstrip("?")
    i, j = 0, len(lower)
    while i < j and not (_is_alnum(lower[i]) or lower[i] in "*?"):
        i += 1
    while j > i and not (_is_alnum(lower[j - 1]) or lower[j - 1] in "*?"):
        j -= 1
    cleaned = lower[i:j]
    if "*" in cleaned or "?" in cleaned:
        return _wildcard(cleaned)
    if not cleaned or not any(_is_alnum(c) for c in cleaned):
        return Word("")
    return Word(cleaned)


def parse_date_value(value: str) -> int | None:
    """A date of a frame (its content dates): the Unix time, or None when it is not a date."""
    v = value.strip('"')
    if not v or v == "*":
        return None
    try:
        return int(_dt.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()) if "T" in v else _ymd(v)
    except (ValueError, OverflowError):
        return _ymd(v)


def _range_end(value: str) -> int | None:
    """One end of a ``date:[START TO END]`` range: None for ``*``; anything else that is not
    a date is a usage error (it would otherwise leave the range open and match everything)."""
    v = value.strip('"')
    if v == "*":
        return None
    ts = parse_date_value(v)
    if ts is None:
        raise UsageError(f"date range end {value!r} is not a date (RFC 3339, YYYY-MM-DD, YYYY-MM, YYYY or *)")
    return ts


def _ymd(v: str) -> int | None:
    parts = v.split("-")
    try:
        if len(parts) == 3:
            d = _dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
        elif len(parts) == 2:
            d = _dt.date(int(parts[0]), int(parts[1]), 1)
        elif len(v) == 4 and v.isascii() and v.isdigit():
            d = _dt.date(int(v), 1, 1)
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return int(_dt.datetime(d.year, d.month, d.day, tzinfo=_dt.timezone.utc).timestamp())


# --- lexer -----------------------------------------------------------------------------------


def _tokenize(q: str) -> list[tuple]:
    toks: list[tuple] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
        elif c == "(":
            toks.append(("lparen",))
            i += 1
        elif c == ")":
            toks.append(("rparen",))
            i += 1
        elif c == '"':
            j = q.find('"', i + 1)
            if j < 0:
                raise UsageError("unterminated quoted string in query")
            toks.append(("phrase", q[i + 1 : j]))
            i = j + 1
        else:
            start = i
            colon = None
            while i < n and not q[i].isspace() and q[i] not in "()":
                if q[i] == ":" and colon is None:
                    colon = i
                i += 1
            if colon is not None and _ascii_lower(q[start:colon]) in KNOWN_FIELDS:
                name = _ascii_lower(q[start:colon])
                i = colon + 1
                if i < n and q[i] == '"':
                    j = q.find('"', i + 1)
                    if j < 0:
                        raise UsageError("unterminated quoted string in query")
                    toks.append(("field", name, q[i + 1 : j]))
                    i = j + 1
                elif i < n and q[i] == "[" and name == "date":
                    j = q.find("]", i + 1)
                    if j < 0:
                        raise UsageError("unterminated date range in query")
                    parts = q[i + 1 : j].split()
                    if len(parts) != 3 or parts[1].upper() != "TO":
                        raise UsageError("date range must be written [start TO end]")
                    toks.append(("date", parts[0], parts[2]))
                    i = j + 1
                else:
                    vs = i
                    while i < n and not q[i].isspace() and q[i] not in "()":
                        i += 1
                    toks.append(("field", name, q[vs:i]))
                continue
            if colon is not None and _FIELD_NAME.fullmatch(q[start:colon]) and colon + 1 < i and q[colon + 1] != "/":
                # name:value with a name that is no field (title:, author:, ...): an error, not
                # a word that silently matches nothing. URLs (http://...) stay words.
                raise UsageError(f"unknown field {q[start:colon]!r}: the fields are {', '.join(KNOWN_FIELDS)}")
            word = q[start:i]
            if word in ("AND", "and"):
                toks.append(("and",))
            elif word in ("OR", "or"):
                toks.append(("or",))
            elif word in ("NOT", "not"):
                toks.append(("not",))
            elif word:
                toks.append(("word", word))
    return toks


# --- parser ----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, toks):
        self.t = toks
        self.p = 0

    def peek(self, kind):
        return self.p < len(self.t) and self.t[self.p][0] == kind

    def take(self, kind):
        if self.peek(kind):
            self.p += 1
            return True
        return False

    def expression(self) -> Node:
        expr = self.term()
        while self.take("or"):
            rhs = self.term()
            expr = Node("or", expr.children + [rhs]) if expr.op == "or" else Node("or", [expr, rhs])
        return expr

    def term(self) -> Node:
        expr = self.factor()
        while True:
            if self.take("and"):
                pass
            elif self.peek("or") or self.peek("rparen") or self.p >= len(self.t):
                break
            rhs = self.factor()
            expr = Node("and", expr.children + [rhs]) if expr.op == "and" else Node("and", [expr, rhs])
        return expr

    def factor(self) -> Node:
        if self.take("not"):
            return Node("not", [self.factor()])
        return self.primary()

    def primary(self) -> Node:
        if self.take("lparen"):
            e = self.expression()
            if not self.take("rparen"):
                raise UsageError("expected ')' in query")
            return e
        if self.p >= len(self.t):
            raise UsageError("unexpected end of query")
        tok = self.t[self.p]
        self.p += 1
        if tok[0] == "word":
            return Node("term", term=word_term(tok[1]))
        if tok[0] == "phrase":
            return Node("term", term=Phrase(_ascii_lower(tok[1])))
        if tok[0] == "field":
            return Node("term", term=Field(tok[1], _ascii_lower(tok[2].strip('"'))))
        if tok[0] == "date":
            return Node("term", term=DateRange(_range_end(tok[1]), _range_end(tok[2])))
        raise UsageError(f"unexpected {tok[0].upper()} in query")


@dataclass
class ParsedQuery:
    expr: Node

    def text_tokens(self) -> list[str]:
        out: list[str] = []

        def walk(n: Node):
            if n.op == "term":
                t = n.term
                if isinstance(t, (Word, Phrase)):
                    out.append(t.text)
                elif isinstance(t, Wildcard) and t.seed():
                    out.append(t.seed())
            else:
                for c in n.children:
                    walk(c)
        walk(self.expr)
        return out

    def contains_wildcards(self) -> bool:
        """Whether a wildcard with at least one letter or digit is among the terms."""
        def walk(n: Node) -> bool:
            if n.op == "term":
                return isinstance(n.term, Wildcard) and any(c.isalnum() for c in n.term.raw)
            return any(walk(c) for c in n.children)
        return walk(self.expr)

    def contains_field_terms(self) -> bool:
        def walk(n: Node) -> bool:
            if n.op == "term":
                return isinstance(n.term, (Field, DateRange))
            return any(walk(c) for c in n.children)
        return walk(self.expr)

    def required_date_range(self) -> DateRange | None:
        def walk(n: Node):
            if n.op == "term":
                return n.term if isinstance(n.term, DateRange) else None
            if n.op == "and":
                combined = None
                for c in n.children:
                    r = walk(c)
                    if r is not None:
                        combined = r if combined is None else combined.intersect(r)
                return combined
            return None
        return walk(self.expr)

    def evaluate(self, frame: dict, content_lower: str) -> bool:
        def walk(n: Node) -> bool:
            if n.op == "or":
                return any(walk(c) for c in n.children)
            if n.op == "and":
                return all(walk(c) for c in n.children)
            if n.op == "not":
                return not walk(n.children[0])
            t = n.term
            if isinstance(t, (Word, Phrase)):
                return _ascii_lower(t.text) in content_lower
            if isinstance(t, Wildcard):
                return t.regex.search(content_lower) is not None
            if isinstance(t, DateRange):
                if t.start is None and t.end is None:
                    return True
                cands = [frame["timestamp"]] + ([frame["anchor_ts"]] if frame.get("anchor_ts") is not None else [])
                cands += [ts for ts in (parse_date_value(d) for d in frame["content_dates"]) if ts is not None]
                return any(t.contains(ts) for ts in cands)
            f: Field = t
            uri = frame["uri"]
            if f.name == "uri":
                return uri is not None and _ascii_lower(uri) == f.value
            if f.name == "scope":
                return uri is not None and uri.startswith(f.value)
            if f.name == "track":
                return frame["track"] is not None and _ascii_lower(frame["track"]) == f.value
            if f.name == "tag":
                return any(_ascii_lower(v) == f.value for v in frame["tags"])
            if f.name == "label":
                return any(_ascii_lower(v) == f.value for v in frame["labels"])
            return False
        return walk(self.expr)


def parse_query(query: str) -> ParsedQuery:
    if not isinstance(query, str):
        raise UsageError("query must be a string")
    for tok in _tokenize(query):
        if tok[0] == "field" and tok[1] not in ("uri", "scope", "track", "tag", "label"):
            raise UsageError(f"unsupported field {tok[1]!r}")
    toks = _tokenize(query)
    if not toks:
        raise UsageError("query must include at least one search term or field filter")
    p = _Parser(toks)
    expr = p.expression()
    if p.p != len(toks):
        raise UsageError(f"unexpected {toks[p.p][0].upper()} in query")
    return ParsedQuery(expr)
