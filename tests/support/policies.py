"""policy.yaml texts of the review tests."""

from __future__ import annotations

# The policy, less the freeze (its dates would make the tests depend on the calendar;
# the freeze tests write their own window around now).
RULES = """\
  - name: prod-needs-sre
    when: {environments: [prod, prod-eu]}
    require: {approvals: 2, teams: ["@acme/sre"]}
  - name: owners-approve
    when: {services: ["*"]}
    require: {approvals: 1, from: owners}
  - name: db-keys
    when: {keys: ["db.*"]}
    require: {approvals: 1, teams: ["@acme/dba"], users: ["alice"], not_author: true}
"""
TAIL = """\
emergency: {label: emergency, require: {approvals: 1, teams: ["@acme/sre"]}, follow_up: true}
escalation: {after: 24h, to: {teams: ["@acme/sre-leads"]}}
"""
POLICY = "version: 1\nrules:\n" + RULES + TAIL

# The policy with two more rules and the freeze.
FULL_POLICY = (
    "version: 1\nrules:\n"
    + RULES
    + """\
  - name: schema-changes
    when: {schema_change: true}
    require: {approvals: 1, users: [carol]}
  - name: policy-file
    when: {paths: [policy.yaml]}
    require: {approvals: 2, teams: ["@acme/sre-leads"]}
"""
    + TAIL
    + """\
freeze:
  - {environments: [prod, prod-eu], from: "2026-12-20T00:00:00Z", to: "2027-01-04T00:00:00Z"}
"""
)

# One approval of anyone for every change: the server tests' policy.
FOUR_EYES = """\
version: 1
rules:
  - name: four-eyes
    when: {services: ["*"]}
    require: {approvals: 1}
"""
