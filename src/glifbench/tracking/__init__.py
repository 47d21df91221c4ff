"""MLflow records the runs (Snakemake owns the DAG; MLflow only records)."""
