"""Sub-commands of the `motcua` command line."""
