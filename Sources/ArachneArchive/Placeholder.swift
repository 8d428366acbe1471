// ArachneArchive: under construction.
