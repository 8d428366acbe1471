import ArachneCLI

await ArachneCommand.runAndExit()
