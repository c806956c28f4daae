"""Camunda's identity service: users, groups, tenants, memberships and authorizations.

Every function that reads or writes on behalf of a caller takes the caller's
:class:`~app.core.permissions.Authentication` (None when authentication is off) and checks it
as Camunda's ``DbIdentityServiceProvider`` and ``AuthorizationManager`` do (app.services.auth).
"""
