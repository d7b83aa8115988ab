"""An rbac.yaml the server tests share."""

from __future__ import annotations

RULES = """\
version: 1
groups:
  payments-team: [alice, bob]
grants:
  - subjects: [group:payments-team, ci-bot]
    role: editor
    scope: [payments@staging, "payments@dev*"]
  - subjects: [carol]
    role: approver
    scope: ["*@prod*"]
  - subjects: [dave]
    actions: [reveal, read]
    scope: ["{payments,search}@staging"]
  - subjects: [root]
    role: admin
    scope: ["*"]
  - subjects: [viewers-all]
    role: viewer
    scope: ["*@*"]
  - subjects: [agent-payments]
    role: agent
    scope: ["payments@*"]
"""
