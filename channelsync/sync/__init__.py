"""One channel's work against its platform: the lane (adapter, budget, hooks), the
runner's cycle (poll orders, drain the outbox), pushes, reconciliation, shipping,
and the plumbing every call goes through (paging, retry, rate budget, HTTP, credentials)."""
