from gazealign.cli import main

if __name__ == "__main__":  # not in a worker process (study.workers) that imports it
    main()
