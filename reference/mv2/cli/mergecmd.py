"""``mv2 merge`` and ``mv2 git-setup`` (spec 15)."""


def register(app) -> None:
    pass
