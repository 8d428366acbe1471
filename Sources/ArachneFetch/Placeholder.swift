// ArachneFetch: under construction.
