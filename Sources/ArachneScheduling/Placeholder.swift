// ArachneScheduling: under construction.
