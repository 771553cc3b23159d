import sys

from wiredesk.cli.main import main

sys.exit(main())
