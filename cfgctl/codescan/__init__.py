"""Hard-coded values found in Python code and moved into configuration (`cfgctl scan-code`).

findings     Finding, Skipped, ScanResult: what a scan reports
sarif        to_sarif: a run as SARIF 2.1.0 for GitHub code scanning
"""
