"""Dashboard users, their memberships per space, and signed-in browser sessions."""
