"""Showing results: terminal tables (and, later, HTML and Markdown)."""
