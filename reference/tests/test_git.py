"""git integration: mv2 git-setup, then a real git merge of two branches and a frame-level git diff."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

import mv2

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
T0 = 1700000000


def git(repo, *args, check=True):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def edit(repo, fn, message):
    with mv2.open(repo / "memory.mv2", "a") as m:
        fn(m)
    git(repo, "commit", "-qam", message)


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    r = subprocess.run([sys.executable, "-m", "mv2.cli.main", "git-setup", str(repo)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "*.mv2 diff=mv2 merge=mv2 -text" in (repo / ".gitattributes").read_text().splitlines()
    assert git(repo, "config", "--local", "merge.mv2.driver").stdout.strip().endswith("merge %O %A %B -o %A")
    with mv2.create(repo / "memory.mv2") as m:
        for i in range(3):
            m.put(f"shared fact {i}", uri=f"mv2://fact/{i}", timestamp=T0 + i)
    git(repo, "add", ".gitattributes", "memory.mv2")
    git(repo, "commit", "-qm", "base")
    return repo


@pytest.mark.req("R-GIT-001")
def test_git_merges_two_branches_of_a_memory(repo):
    git(repo, "checkout", "-qb", "alice")
    edit(repo, lambda m: (m.put("alice's note", uri="mv2://alice/1", timestamp=T0 + 10),
                          m.supersede(0, "shared fact 0, as alice corrected it", timestamp=T0 + 11)), "alice")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "bob")
    edit(repo, lambda m: (m.put("bob's note", uri="mv2://bob/1", timestamp=T0 + 20),
                          m.supersede(1, "shared fact 1, as bob corrected it", timestamp=T0 + 21)), "bob")
    git(repo, "checkout", "-q", "alice")
    r = git(repo, "merge", "--no-edit", "bob")
    assert "Merge made" in r.stdout
    merged = repo / "memory.mv2"
    assert mv2.verify(merged).ok
    with mv2.open(merged) as m:
        active = {f["text"].split("\n")[0] for f in m.frames() if f["status"] == "active"}
    assert active == {"alice's note", "bob's note", "shared fact 0, as alice corrected it",
                      "shared fact 1, as bob corrected it", "shared fact 2"}
    # git diff shows the change frame by frame through the textconv.
    d = git(repo, "diff", "main", "HEAD", "--", "memory.mv2").stdout
    assert "+frame 3 active" in d and "+    bob's note" in d and "+    alice's note" in d
    assert "-frame 0 active" in d and "+frame 0 superseded" in d


@pytest.mark.req("R-GIT-001", "R-MRG-004")
def test_git_reports_a_conflicting_merge(repo):
    git(repo, "checkout", "-qb", "alice")
    edit(repo, lambda m: m.supersede(0, "alice's version", timestamp=T0 + 10), "alice")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "bob")
    edit(repo, lambda m: m.supersede(0, "bob's version", timestamp=T0 + 20), "bob")
    before = (repo / "memory.mv2").read_bytes()
    r = git(repo, "merge", "--no-edit", "alice", check=False)
    assert r.returncode != 0 and "CONFLICT" in r.stdout
    assert (repo / "memory.mv2").read_bytes() == before  # the driver wrote nothing over OURS
    git(repo, "merge", "--abort")
