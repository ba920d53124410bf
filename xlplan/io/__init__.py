"""File input and output: the edges where workbooks come in and go out.

Reading a planbok, in three modules by job:

- ``raw.py``: what a reader produces, the workbook's raw cells and tables before the
  contract types them (RawCell, RawTable); the model (xlplan.model) is built from these.
- ``xlsx.py``: the reader of .xlsx/.xlsm files (after ``safety.py``'s container checks).
- ``xlwings_book.py``: the reader of an open xlwings Book (the Excel buttons, the server).

Writing: ``writer.py`` (atomic writes), ``region_writer.py`` and ``overview.py`` (the
Regionsammanställning), which read the consolidation's types (xlplan.region) and nothing
of the run or the history store.
"""
