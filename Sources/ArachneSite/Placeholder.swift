// ArachneSite: under construction.
