import sys

from bench.run import main

if sys.argv[1:2] == ["modem"]:  # the modem path (bench/modem.py)
    from bench.modem import main as modem_main
    sys.exit(modem_main(sys.argv[2:]))
sys.exit(main())
