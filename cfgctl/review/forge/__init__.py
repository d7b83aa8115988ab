"""Code forges cfgctl talks to, behind the `Forge` protocol (forge/protocol.py): GitHub (and
GitHub Enterprise) through github3.py in forge/github.py, imported only by the CLI."""
