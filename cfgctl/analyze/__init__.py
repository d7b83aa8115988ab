"""Analytics: what configuration changes did to performance (`cfgctl analyze`).

series       Series: one metric's points (times or indices, values), read from CSV or JSON
sources      MetricSource (render a query template, read series) and FileSource
prometheus   PrometheusSource: range queries over Prometheus' HTTP API
placeholders {service}/{env}/{target} filled into queries as escaped data
config       analytics.yaml: the source and the metrics (direction, weight, critical)
deliveries   the agent's audit log as Delivery records (commit, target, time, wave)
changepoints where a series' level shifts (rank CUSUM, Kolmogorov's tail)
judge        Kayenta's judge of one metric before and after; impact: a commit's targets judged
keychanges   the keys a delivery changed (the effective configuration at both commits)
correlate    shifts of a metric, the deliveries before them, keys ranked against chance
fit          monotone (isotonic) fit and a Gaussian process; bounds: a key's schema bounds
recommend    a better value of a numeric key, or why not; proposal: its commit on a new branch
report       a period gathered for `analyze report`: each metric per scope, verdicts
reportpage   that period as one self-contained HTML page
plots        its plots as inline SVG (matplotlib, imported only to draw)
"""
