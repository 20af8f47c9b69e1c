"""Analyses over stored data: velocity anomalies, near-duplicates."""
