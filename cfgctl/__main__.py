"""`python -m cfgctl`: the command line (used by the Git merge driver)."""

from cfgctl.cli.app import main

main()
