"""Staff members, roles, login, staff events and staff import."""
