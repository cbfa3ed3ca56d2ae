"""`python -m monitor …` is `policywatch …` (used to run crawls in a child process)."""

from monitor.cli import main

if __name__ == "__main__":
    main()
