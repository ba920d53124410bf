"""File input and output: the edges where workbooks come in and go out."""
