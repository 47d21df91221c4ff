"""The paper's tables assembled from run metrics, side by side with the paper's values."""
