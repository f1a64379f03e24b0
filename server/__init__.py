VERSION = "0.1.0"  # pyproject.toml's version (a test keeps them equal); no metadata lookup at start
