"""API keys and roles: who may read what, and the dependency every route declares."""

from app.auth.service import CurrentPrincipal, Principal, Role, demand, require_role

__all__ = ["CurrentPrincipal", "Principal", "Role", "demand", "require_role"]
