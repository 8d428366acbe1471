// ArachneStore: under construction.
