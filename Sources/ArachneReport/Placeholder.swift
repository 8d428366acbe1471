// ArachneReport: under construction.
