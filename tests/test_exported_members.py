import cfgctl


def test_public_names_are_exported() -> None:
    exported = set(cfgctl.__all__)
    public = {
        name
        for name in dir(cfgctl)
        if not name.startswith("_") and not isinstance(getattr(cfgctl, name), type(cfgctl))
    }
    assert public == exported - {"__version__"}
    for name in exported:
        assert hasattr(cfgctl, name)
