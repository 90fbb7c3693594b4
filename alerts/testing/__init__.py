"""Test doubles shipped as code: a fake Slack Web API and an SMTP capture server.

Both are *real servers on loopback* reached through the real clients (slack-sdk,
aiosmtplib): tests exercise the same HTTP/SMTP code paths as production. Import the
submodules directly (``alerts.testing.slack``, ``alerts.testing.smtp``); the SMTP one
needs the test dependency ``aiosmtpd``.
"""

__all__: list[str] = []
