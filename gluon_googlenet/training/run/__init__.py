"""One run: its settings (config), their settling into a Run (resolve), its folder (folder,
checkpoint), signals (stopping), what the reader sees (progress, live)."""
