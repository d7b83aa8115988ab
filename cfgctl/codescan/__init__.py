"""Hard-coded values found in Python code and moved into configuration (`cfgctl scan-code`).

findings     Finding, Skipped, ScanResult: what a scan reports
"""
