"""Errors of sign-in and access; rendered as JSON by the API and as a page by the dashboard."""

from __future__ import annotations

from xtracker.errors import Conflict, Forbidden, ValidationFailed, XTrackerError


class InvalidLogin(XTrackerError):
    """Wrong email or password."""

    status, code = 401, "invalid_login"


class CsrfFailed(Forbidden):
    """The form is stale or did not come from this site; reload the page and try again."""

    code = "csrf_failed"


class EmailTaken(Conflict):
    """A user with this email exists."""

    code = "email_taken"


class WeakPassword(ValidationFailed):
    """The password must be at least 8 characters."""

    code = "weak_password"


class LastOwner(Conflict):
    """A space keeps at least one owner: make someone else owner first."""

    code = "last_owner"
