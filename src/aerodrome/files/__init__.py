"""Files attached to jobs and components, and the blob stores that hold their content."""
