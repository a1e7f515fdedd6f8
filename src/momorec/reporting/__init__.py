"""The run report: section builders over result datasets, tables and figures, Markdown and HTML rendering."""
