"""Code forges cfgctl talks to: GitHub (and GitHub Enterprise) through github3.py."""
