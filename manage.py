#!/usr/bin/env python
from flowcrm.cli import main

if __name__ == "__main__":
    main()
