"""Small pure helpers shared by every domain; imports no domain package."""
