"""A small payments service: the sample `cfgctl scan-code` moves hard-coded values out of."""
