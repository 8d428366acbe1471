// ArachneCluster: under construction.
