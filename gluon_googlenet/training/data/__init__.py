"""A run's data: the IDX data sets and image folders, read, checked and fetched; resized arrays
and their conversion to net input; the sampler that resumes mid-epoch; augmentation."""
