"""What the book's chapters compute for their text: one module a chapter.

A chapter's code cells stay short (the style's limit is about 15 lines): the logic behind a
sentence, a table or a verdict that the chapter glues into its prose lives here, with tests.
Each function is pure: it takes the specs, tables and parameters the chapter has already loaded
(files are read by `hermes_model.io`, never here) and returns what the chapter shows, most often
a ``dict`` of glue values (glue key → the value as the text prints it), which the chapter glues
in one loop. Import a chapter's module by name, e.g.
``from hermes_model.chapters import end_to_end``.
"""
