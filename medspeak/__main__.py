from medspeak.cli import main

main()
