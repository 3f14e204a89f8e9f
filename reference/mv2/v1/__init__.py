"""Memvid V1 memories (PyPI ``memvid`` 0.1.x): reading them and importing them into MV2.

    from mv2.v1 import import_v1
    report = import_v1("notes.mp4", "notes_index.json", "notes.mv2", timestamp=1700000000)
    report.unreadable, report.video_only      # what the two copies did not both give

``faiss`` reads V1's vector file, ``index`` its index JSON, ``video`` its QR frames (the
``v1`` extra), ``importer`` puts them together. This package sits beside ``memory.py`` and
writes only through the public writer API. Docs: import-v1.
"""

from .importer import SOURCES, ImportReport, faiss_path_for, import_v1

__all__ = ["import_v1", "ImportReport", "SOURCES", "faiss_path_for"]
