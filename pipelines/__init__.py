"""Batching, seeding and dask execution. Only this package knows about dask."""
