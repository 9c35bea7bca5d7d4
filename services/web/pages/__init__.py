"""The page's HTML, built by pure functions from the services' answers (no template engine: html.escape)."""
