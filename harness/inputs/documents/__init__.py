"""Documents as companies keep them: Word, PDF, Excel and HTML files converted once to Markdown.

``convert.read_document`` is the entry point (a file -> its Markdown, cached by content hash in
``cache``); ``office`` converts .docx, .xlsx and .html, ``pdf`` converts .pdf. The converter
libraries are imported inside the functions that use them, so validating a set of Markdown
documents loads none of them. docs/knowledge-base.md says which libraries and why.
"""
