"""Access: staff users with roles and organisation scopes (users), passwords they own
(passwords), and log-in with throttling, sessions and their audit (login)."""
