"""Quizzes: definitions, draws, timed attempts with autosave, grading, practice and the
mistakes notebook."""
