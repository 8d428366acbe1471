// ArachneZMQ: under construction.
