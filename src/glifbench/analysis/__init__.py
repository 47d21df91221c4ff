"""Analysis of trained runs: metrics tables, weight and autapse statistics, activity."""
