"""The command-line interface; the library never imports it."""
