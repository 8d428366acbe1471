import ArachneCLI
ArachneCommand.main()
