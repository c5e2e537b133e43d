"""Pure helpers: no Discord, no database."""
