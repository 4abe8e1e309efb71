"""One run: its settings (config), their settling into a Run (resolve), its folder (run_files,
checkpoint), signals (stopping), what the reader sees (progress, live, plots)."""
