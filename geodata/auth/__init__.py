"""Who may do what: roles and policy, accounts, sessions, the audit log, masking, retention."""
