"""Run the lanhmanh CLI from a checkout: `python cli.py score ...` is `lanhmanh score ...`."""
from lanhmanh.cli import main

if __name__ == "__main__":
    main()
