"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""
import gc

from trainer import create_app

app = create_app()

# What the worker loaded to get here (modules, the app, SQLAlchemy's mappers: ~150,000 objects)
# lives as long as the worker: move it out of the collector's sight, so a full collection
# scans what requests allocate, not all of it again (bench/profile_exam.py: the collector's
# share of an exam-day arrival fell by half).
gc.collect()
gc.freeze()
