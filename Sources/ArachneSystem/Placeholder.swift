// ArachneSystem: under construction.
