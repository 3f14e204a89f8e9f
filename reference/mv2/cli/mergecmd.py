"""``mv2 merge`` and ``mv2 git-setup`` (spec 15).

``mv2 merge`` exits 0 when OUT is written, 1 when the sides conflict (the conflicts are
listed; nothing is written), 2 when it cannot run. git's merge driver contract is the same:
0 merged, non-zero conflict.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import MV2Error

GITATTRIBUTES_LINE = "*.mv2 diff=mv2 merge=mv2 -text"


def _describe(op: dict) -> str:
    s = f"{op['side']} {op['op']}"
    if "target" in op:
        s += f" of frame {op['target']}"
    if "frame" in op:
        s += f" (its frame {op['frame']})"
    if "uri" in op:
        s += f" {op['uri']}"
    return s


def git_config(repo: Path, command: str) -> dict[str, str]:
    """The repository-local settings of the textconv and the merge driver (15.6)."""
    return {
        "diff.mv2.textconv": f"{command} textconv",
        "merge.mv2.name": "mv2 three-way merge of memory files",
        "merge.mv2.driver": f"{command} merge %O %A %B -o %A",
    }


def register(app) -> None:
    from .main import EXIT_CANNOT_RUN, EXIT_CORRUPT, _fail, _file, err

    @app.command("merge")
    def merge_cmd(
        base: Path = typer.Argument(..., help="The common ancestor."),
        ours: Path = typer.Argument(..., help="One side."),
        theirs: Path = typer.Argument(..., help="The other side."),
        output: Path = typer.Option(..., "-o", "--output", help="Merged file (may be OURS, as git's driver asks)."),
        prefer_ours: bool = typer.Option(False, "--ours", help="Resolve each conflict in favour of OURS."),
        prefer_theirs: bool = typer.Option(False, "--theirs", help="Resolve each conflict in favour of THEIRS."),
        json_out: bool = typer.Option(False, "--json", help="Print the result (or the conflicts) as JSON."),
    ):
        """Three-way merge of two memories sharing the ancestor BASE (spec 15). Deterministic: the same
        inputs give the same bytes. Exit 0 merged, 1 conflicts (nothing written), 2 cannot run."""
        from ..merge import MergeConflictError, merge_files

        for p in (base, ours, theirs):
            _file(p)
        if prefer_ours and prefer_theirs:
            err.print("mv2 merge: give --ours or --theirs, not both")
            raise typer.Exit(EXIT_CANNOT_RUN)
        prefer = "ours" if prefer_ours else "theirs" if prefer_theirs else None
        try:
            res = merge_files(base, ours, theirs, output, prefer=prefer)
        except MergeConflictError as exc:
            if json_out:
                print(json.dumps({"ok": False, **exc.result.to_json()}, ensure_ascii=False))
            else:
                print(f"CONFLICT: {exc.message}")
                for c in exc.result.conflicts:
                    where = f"frame {c.frame}" if c.frame is not None else f"URI {c.uri}"
                    print(f"  {c.kind} on {where}: {_describe(c.ours.describe())} / {_describe(c.theirs.describe())}")
            raise typer.Exit(EXIT_CORRUPT)
        except MV2Error as exc:
            _fail(exc, json_out)
            raise typer.Exit(EXIT_CANNOT_RUN)
        if json_out:
            print(json.dumps({"ok": True, **res.to_json()}, ensure_ascii=False))
            return
        a = res.applied
        print(f"merged into {output}: {res.frames} frames; {a['put']} put, {a['supersede']} supersede, "
              f"{a['delete']} delete replayed; {res.convergent} made on both sides applied once; sha256 {res.sha256}")
        for c in res.conflicts:
            where = f"frame {c.frame}" if c.frame is not None else f"URI {c.uri}"
            print(f"  resolved {c.kind} on {where} for {prefer}")
        for d in res.dropped:
            print(f"  dropped {_describe(d)}")

    @app.command("git-setup")
    def git_setup(
        repo: Path = typer.Argument(Path("."), help="The git work tree to set up."),
        command: Optional[str] = typer.Option(None, help="How git should run mv2 (default: this mv2, by absolute path)."),
    ):
        """Make git diff .mv2 files frame by frame and merge them with mv2 merge: writes .gitattributes
        and repository-local git config (diff textconv and merge driver)."""
        if not (repo / ".git").exists():
            err.print(f"mv2 git-setup: {repo} is not the top of a git work tree")
            raise typer.Exit(EXIT_CANNOT_RUN)
        if command:
            cmd = command
        elif Path(sys.argv[0]).name == "mv2":
            cmd = shlex.quote(str(Path(sys.argv[0]).resolve()))
        else:  # run as a module (or from tests): the same interpreter, so the same mv2
            cmd = f"{shlex.quote(sys.executable)} -m mv2.cli.main"
        attrs = repo / ".gitattributes"
        text = attrs.read_text(encoding="utf-8") if attrs.exists() else ""
        if GITATTRIBUTES_LINE not in text.splitlines():
            attrs.write_text(text + ("" if not text or text.endswith("\n") else "\n") + GITATTRIBUTES_LINE + "\n",
                             encoding="utf-8")
        for k, v in git_config(repo, cmd).items():
            r = subprocess.run(["git", "config", "--local", k, v], cwd=repo, capture_output=True, text=True)
            if r.returncode:
                err.print(f"mv2 git-setup: git config {k} failed: {r.stderr.strip()}")
                raise typer.Exit(EXIT_CANNOT_RUN)
        print(f"set up {repo}: .gitattributes has '{GITATTRIBUTES_LINE}'; git diff uses '{cmd} textconv', "
              f"git merge uses '{cmd} merge %O %A %B -o %A'")
