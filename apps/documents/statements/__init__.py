"""Reading statements and tax records whatever their layout, and reading statements as an
investigator does: flows between counterparties over time (issue 19).

`infer`     columns inferred from headers and content, balance continuity as the check;
`read`      rows → transactions with an inferred or confirmed mapping;
`flows`     round trips (split, lagged, chained), regular payments, cash concentration;
`policies`  the thresholds they read, seeded as policy values with citations;
`profiles`  a confirmed mapping → a versioned, audited ColumnProfile for that bank.
"""
