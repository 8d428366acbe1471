// ArachneProtocol: under construction.
