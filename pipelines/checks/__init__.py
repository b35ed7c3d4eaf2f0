"""Data checks: the contract as Great Expectations rules, their run, failures, rejected rows."""
