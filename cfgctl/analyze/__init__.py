"""Analytics: what configuration changes did to performance (`cfgctl analyze`).

series       Series: one metric's points (times or indices, values), read from CSV or JSON
"""
