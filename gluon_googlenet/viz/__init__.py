"""Looking at nets and runs: layer summaries and shapes, diagrams, Inception branch feature maps,
the zoo table and the HTML run report."""
