"""Click analytics: totals, time series and breakdowns over rollups kept in step with the raw clicks."""
