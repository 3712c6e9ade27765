"""The app's plumbing: database per request, errors, headers, policy, limits, sessions, i18n,
request parameters and keys."""
