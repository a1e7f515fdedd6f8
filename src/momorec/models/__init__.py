"""Sequential recommenders written for this project: one model per file, one shared trainer."""
