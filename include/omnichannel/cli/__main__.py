import sys

from omnichannel.cli import main

sys.exit(main())
