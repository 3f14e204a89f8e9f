"""mv2_conformance: checks any implementation of the MV2 format against the committed vectors.

The runner talks to an implementation only through an adapter speaking HP/1 (JSON lines on
the adapter's stdin and stdout, see ``conformance/protocol/README.md``); it never imports an
implementation, the reference one included. What each check means is fixed by
``conformance/INTERPRETING.md``.
"""

SUITE_VERSION = "0.2.0"
PROTOCOL_VERSION = 1
# Revisions add commands without changing old ones: 2 added the workload commands and regions.
PROTOCOL_REVISION = 2
# Bumped whenever INTERPRETING.md changes what a check means, so that results name the rules
# they were judged by.
CONTRACT_VERSION = 2
