// ArachneLadder: under construction.
