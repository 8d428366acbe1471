// ArachneEventLoop: under construction.
