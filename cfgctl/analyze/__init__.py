"""Analytics: what configuration changes did to performance (`cfgctl analyze`).

series       Series: one metric's points (times or indices, values), read from CSV or JSON
sources      MetricSource (render a query template, read series) and FileSource
prometheus   PrometheusSource: range queries over Prometheus' HTTP API
placeholders {service}/{env}/{target} filled into queries as escaped data
config       analytics.yaml: the source and the metrics (direction, weight, critical)
report       a period gathered for `analyze report`: each metric per scope, verdicts
reportpage   that period as one self-contained HTML page
plots        its plots as inline SVG (matplotlib, imported only to draw)
"""
