"""`cfgctl serve`: the configuration server (layer 7). Its framework-independent parts:

tokens.py    API tokens: made once, shown once, stored as salted hashes (SQLite)
rbac.py      who may do what on which service@env: rbac.yaml, evaluated by Casbin
rbacfile.py  rbac.yaml as a file: its problems at file:line (cfgctl validate)
rbacdiff.py  what a change to rbac.yaml grants (for pr plan)
auditlog.py  the hash-chained JSON-lines audit log and its verification
statedir.py  where the server keeps its state
"""
