"""Accounts: users, login, sessions, API tokens, passwords, password resets, invitations of
directors, retention of personal data."""
