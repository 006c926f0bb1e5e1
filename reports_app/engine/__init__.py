"""The engine: pure Python, no Django (tests/engine/test_engine.py proves it); strings, bytes and dataclasses in
and out.

parsing (templates and reports to dataclasses), matching (which template a file follows), checks (the course checker's
verdicts), rendering (README, standard and grading HTML), diffing (two template versions), figures (what an image
must be), roster (roster CSVs), csvfiles (the one CSV writer), repo_urls (the one repo URL rule) and bounded (work on
hostile input in a worker process under a time, memory and recursion budget).
"""
