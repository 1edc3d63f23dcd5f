"""Sub-commands of the `motcua` command line, one module each: its parser and its run.

A command imports the services it needs when it runs, not when the parser is built:
every `motcua` call builds all parsers, and on a 4 GB counter PC importing the whole core
(SQLAlchemy, reportlab, Pillow, pikepdf, the setup package) would add about a second to
`motcua deadline` or `motcua --help`. Types come from `TYPE_CHECKING` imports."""
