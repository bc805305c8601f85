from gazealign.cli import main

main()
