"""The `abc-kg` command line: a thin click group, one command per job.

Data goes to files or stdout; messages, progress, logs and errors go to stderr. Exit codes: 0 ok, 1 invalid
input, 2 usage error, 3 SHACL non-conformance, 4 fetch failure, 5 store failure, 130 interrupted; `-v` adds the
traceback, never changes the code.

Startup is kept cheap on purpose: this module imports only click and abc-kg's light modules (errors, registry);
every stage (pipeline, fetch, validate, load, query, and with them pyshacl, rdflib, requests, rich) is imported
inside the command that needs it, so `abc-kg --help` and `abc-kg taxonomies` start in a fraction of a second.
Every argument is checked by click before a command starts, so a typo never costs a half-done run.
"""

from .app import main

__all__ = ["main"]
