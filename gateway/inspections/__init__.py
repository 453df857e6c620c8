"""The logistics office's records backed by sensors: the disinfection record (UV lamps on smart plugs)."""
