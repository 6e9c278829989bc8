"""`babysit search`: coarse-to-fine random hyperparameter search, local or on Dask."""
