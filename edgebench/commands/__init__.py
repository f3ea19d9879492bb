"""One module per subcommand; each command's work is a plain function the tests can call."""
