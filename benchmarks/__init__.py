"""Benchmarks of cfgctl against check-jsonschema; see benchmarks/README.md.

python -m benchmarks.run [--services N] [--docs N] [--quick]
"""
