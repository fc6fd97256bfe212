from slacalc.cli import main

main()
